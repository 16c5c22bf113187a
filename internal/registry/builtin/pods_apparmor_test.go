package builtin_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Upstream's applyAppArmorVersionSkew copies a container's AppArmor
// annotation into its field on create, unless the field is set, the
// value names no valid profile, or the profile is the pod's.
func TestAppArmorAnnotationsCopied(t *testing.T) {
	const key = "container.apparmor.security.beta.kubernetes.io/"
	pod := prepared(t, "pods", "", "metadata: {name: p, annotations: {"+key+"a: runtime/default, "+key+"b: localhost/prof, "+
		key+"c: unconfined, "+key+"d: \"localhost/ padded\", "+key+"e: unconfined, "+key+"i: runtime/default}}\n"+
		"spec: {securityContext: {appArmorProfile: {type: Unconfined}}, initContainers: [{name: i, image: x}], containers: ["+
		"{name: a, image: x}, {name: b, image: x}, {name: c, image: x}, {name: d, image: x}, "+
		"{name: e, image: x, securityContext: {appArmorProfile: {type: RuntimeDefault}}}]}").(*corev1.Pod)
	profile := func(c corev1.Container) *corev1.AppArmorProfile {
		if c.SecurityContext == nil {
			return nil
		}
		return c.SecurityContext.AppArmorProfile
	}
	wantYAML(t, profile(pod.Spec.InitContainers[0]), "{type: RuntimeDefault}")
	for i, want := range []string{"{type: RuntimeDefault}", "{type: Localhost, localhostProfile: prof}", "", "", "{type: RuntimeDefault}"} {
		wantYAML(t, profile(pod.Spec.Containers[i]), want)
	}
}

func TestAppArmorValidation(t *testing.T) {
	const key = "container.apparmor.security.beta.kubernetes.io/c"
	pod := func(annotations, spec string) string {
		return "metadata: {name: p, annotations: " + annotations + "}\nspec: " + spec
	}
	const ctr = "containers: [{name: c, image: x}]"
	runVerdicts(t, []verdictCase{
		{name: "bad annotation", resource: "pods", obj: pod("{"+key+": bogus}", "{"+ctr+"}"),
			want: []string{`metadata.annotations[` + key + `]: Invalid value: "bogus": invalid AppArmor profile name: "bogus"`}},
		{name: "annotation of no container", resource: "pods", obj: pod("{container.apparmor.security.beta.kubernetes.io/z: unconfined}", "{"+ctr+"}"),
			want: []string{`metadata.annotations[container.apparmor.security.beta.kubernetes.io/z]: Invalid value: "z": container not found`}},
		{name: "field and annotation differ", resource: "pods",
			obj:  pod("{"+key+": unconfined}", "{containers: [{name: c, image: x, securityContext: {appArmorProfile: {type: RuntimeDefault}}}]}"),
			want: []string{"spec.containers[0].securityContext.appArmorProfile.type: Forbidden: apparmor type in annotation and field must match"}},
		{name: "pod profile copied over", resource: "pods",
			obj: pod("{"+key+": runtime/default}", "{securityContext: {appArmorProfile: {type: Unconfined}}, "+ctr+"}")},
		{name: "localhost without profile", resource: "pods", obj: pod("{}", "{securityContext: {appArmorProfile: {type: Localhost}}, "+ctr+"}"),
			want: []string{"spec.securityContext.appArmorProfile.localhostProfile: Required value: must be set when AppArmor type is Localhost"}},
		{name: "padded localhost profile", resource: "pods",
			obj:  pod("{}", "{containers: [{name: c, image: x, securityContext: {appArmorProfile: {type: Localhost, localhostProfile: \" p\"}}}]}"),
			want: []string{`spec.containers[0].securityContext.appArmorProfile.localhostProfile: Invalid value: " p": must not be padded with whitespace`}},
		{name: "template annotation", resource: "apps/deployments",
			obj:  "metadata: {name: d}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}, annotations: {" + key + ": bogus}}, spec: {" + ctr + "}}}",
			want: []string{`spec.template.annotations[` + key + `]: Invalid value: "bogus": invalid AppArmor profile name: "bogus"`}},
	})
}
