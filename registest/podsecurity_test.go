package registest_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/regis-dev/regis/registest"
)

// warningRecorder collects the Warning headers of a client's responses.
type warningRecorder struct {
	mu  sync.Mutex
	got []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, msg string) {
	if code == 299 {
		w.mu.Lock()
		w.got = append(w.got, msg)
		w.mu.Unlock()
	}
}

// take returns the warnings recorded since the last take.
func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.got
	w.got = nil
	return got
}

func psaClient(t *testing.T, srv *registest.Server) (*kubernetes.Clientset, *warningRecorder) {
	cfg := srv.Config()
	w := &warningRecorder{}
	cfg.WarningHandlerWithContext = w
	return kubernetes.NewForConfigOrDie(cfg), w
}

func psaNamespace(t *testing.T, cs kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// hostPod breaks the baseline level (regis, as kube-apiserver without
// --allow-privileged, refuses privileged containers in validation).
func hostPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{HostNetwork: true,
		Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

func restrictedPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}}}}
}

const restrictedDetail = `allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ` +
	`unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ` +
	`runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ` +
	`seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`

// TestPodSecurity: the pod-security.kubernetes.io labels of a namespace
// refuse, warn about and validate as kube-apiserver's PodSecurity plugin.
func TestPodSecurity(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs, warnings := psaClient(t, srv)
	ctx := t.Context()

	// enforce: a privileged pod is refused with upstream's message, a
	// compliant one admitted.
	psaNamespace(t, cs, "psa-enforce", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"})
	_, err = cs.CoreV1().Pods("psa-enforce").Create(ctx, hostPod("priv"), metav1.CreateOptions{})
	want := `pods "priv" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("privileged pod under enforce=baseline: %v\nwant %s", err, want)
	}
	gen := hostPod("")
	gen.GenerateName = "gen-"
	_, err = cs.CoreV1().Pods("psa-enforce").Create(ctx, gen, metav1.CreateOptions{})
	if msg := err.Error(); !apierrors.IsForbidden(err) || !strings.HasPrefix(msg, `pods "gen-`) || strings.HasPrefix(msg, `pods "gen-"`) {
		t.Errorf("generated name: %v, want the generated name in the message", err)
	}
	if _, err := cs.CoreV1().Pods("psa-enforce").Create(ctx, restrictedPod("ok"), metav1.CreateOptions{}); err != nil {
		t.Errorf("compliant pod: %v", err)
	}
	if w := warnings.take(); len(w) != 0 {
		t.Errorf("warnings of a compliant pod: %q", w)
	}

	psaNamespace(t, cs, "psa-restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	_, err = cs.CoreV1().Pods("psa-restricted").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	want = `pods "plain" is forbidden: violates PodSecurity "restricted:latest": ` + restrictedDetail
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("plain pod under enforce=restricted: %v\nwant %s", err, want)
	}
	if _, err := cs.CoreV1().Pods("psa-restricted").Create(ctx, restrictedPod("ok"), metav1.CreateOptions{}); err != nil {
		t.Errorf("restricted pod: %v", err)
	}

	// A workload's template is never refused: warned about (warn follows
	// a stricter enforce).
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: hostPod("").Spec}}}
	if _, err := cs.AppsV1().Deployments("psa-enforce").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("deployment with a privileged template: %v", err)
	}
	want = `would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)`
	if w := warnings.take(); !slices.Equal(w, []string{want}) {
		t.Errorf("deployment warnings: %q, want %q", w, want)
	}

	// warn: admitted with a Warning header.
	psaNamespace(t, cs, "psa-warn", map[string]string{"pod-security.kubernetes.io/warn": "baseline"})
	if _, err := cs.CoreV1().Pods("psa-warn").Create(ctx, hostPod("priv"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("privileged pod under warn=baseline: %v", err)
	}
	if w := warnings.take(); !slices.Equal(w, []string{want}) {
		t.Errorf("pod warnings: %q, want %q", w, want)
	}
	// An update that changes no image is not evaluated again.
	if _, err := cs.CoreV1().Pods("psa-warn").Patch(ctx, "priv", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"a":"b"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := warnings.take(); len(w) != 0 {
		t.Errorf("label update warnings: %q", w)
	}

	// Labels: bad values are 422 with upstream's field errors.
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "psa-bad",
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/warn-version": "v1"}}},
		metav1.CreateOptions{})
	want = `Namespace "psa-bad" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted, ` +
		`metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1": must be "latest" or "v1.x"]`
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Errorf("bad labels: %v\nwant %s", err, want)
	}

	// Tightening enforce warns about the pods already there.
	if _, err := cs.CoreV1().Namespaces().Patch(ctx, "psa-warn", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	wantNS := []string{`existing pods in namespace "psa-warn" violate the new PodSecurity enforce level "baseline:latest"`,
		`priv: host namespaces`}
	if w := warnings.take(); !slices.Equal(w, wantNS) {
		t.Errorf("namespace label change warnings: %q, want %q", w, wantNS)
	}
	_, err = cs.CoreV1().Namespaces().Patch(ctx, "psa-warn", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"bogus"}}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `Invalid value: "bogus": must be one of privileged, baseline, restricted`) {
		t.Errorf("bad label on update: %v", err)
	}

	// The evaluations are counted on /metrics, as upstream's.
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil || !strings.Contains(string(body), `pod_security_evaluations_total{decision="deny",mode="enforce",policy_level="baseline",policy_version="latest",request_operation="create",resource="pod",subresource=""}`) {
		t.Errorf("/metrics: %v; pod_security lines: %q", err, grepLines(string(body), "pod_security_evaluations_total{"))
	}
}

func grepLines(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// TestPodSecurityConfiguration: the defaults and exemptions of the
// PodSecurityConfiguration in --admission-control-config-file.
func TestPodSecurityConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admission.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  path: podsecurity.yaml
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "podsecurity.yaml"), []byte(`apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: baseline
exemptions:
  namespaces: [psa-exempt]
  runtimeClasses: [kata]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := registest.Start(t.Context(), registest.Options{AdmissionControlConfigFile: file})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs, warnings := psaClient(t, srv)
	ctx := t.Context()

	_, err = cs.CoreV1().Pods("default").Create(ctx, hostPod("priv"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "baseline:latest"`) {
		t.Errorf("privileged pod under the default enforce=baseline: %v", err)
	}
	kata := hostPod("kata")
	kata.Spec.RuntimeClassName = ptr.To("kata")
	if _, err := cs.CoreV1().Pods("default").Create(ctx, kata, metav1.CreateOptions{}); err != nil {
		t.Errorf("pod of an exempt runtime class: %v", err)
	}
	psaNamespace(t, cs, "psa-exempt", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	want := `namespace "psa-exempt" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored`
	if w := warnings.take(); !slices.Equal(w, []string{want}) {
		t.Errorf("exempt namespace warnings: %q, want %q", w, want)
	}
	if _, err := cs.CoreV1().Pods("psa-exempt").Create(ctx, hostPod("priv"), metav1.CreateOptions{}); err != nil {
		t.Errorf("pod in an exempt namespace: %v", err)
	}

	// A bad configuration stops the server at start.
	if err := os.WriteFile(filepath.Join(dir, "podsecurity.yaml"), []byte(`apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: strict
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := registest.Start(t.Context(), registest.Options{AdmissionControlConfigFile: file}); err == nil {
		s.Stop()
		t.Error("a server started with defaults.enforce: strict")
	} else if !strings.Contains(err.Error(), "PodSecurity") {
		t.Errorf("bad configuration: %v", err)
	}
}

var _ rest.WarningHandlerWithContext = (*warningRecorder)(nil)

// TestPodSecurityDisabled: --disable-admission-plugins PodSecurity turns
// the labels off.
func TestPodSecurityDisabled(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{DisableAdmissionPlugins: []string{"PodSecurity"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs, warnings := psaClient(t, srv)
	psaNamespace(t, cs, "psa-off", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	if _, err := cs.CoreV1().Pods("psa-off").Create(t.Context(), hostPod("host"), metav1.CreateOptions{}); err != nil {
		t.Errorf("host pod without PodSecurity: %v", err)
	}
	if w := warnings.take(); len(w) != 0 {
		t.Errorf("warnings without PodSecurity: %q", w)
	}
	// The configuration file is read all the same, as upstream's.
	bad := filepath.Join(t.TempDir(), "admission.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugin: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := registest.Start(t.Context(), registest.Options{DisableAdmissionPlugins: []string{"PodSecurity"}, AdmissionControlConfigFile: bad})
	if err == nil {
		s.Stop()
		t.Error("a server started with a malformed --admission-control-config-file")
	} else if !strings.Contains(err.Error(), `unknown field "plugin"`) {
		t.Errorf("malformed configuration: %v", err)
	}
}
