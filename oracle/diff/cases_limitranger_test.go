//go:build oracle

package diff

import "testing"

// TestLimitRanger: the LimitRanger admission plugin (on by default in both
// servers): the container defaults a pod gets (and the annotation saying
// so), then the 403s of each kind of limit, on pods and claims.
func TestLimitRanger(t *testing.T) {
	const (
		lrs = "/api/v1/namespaces/{ns}/limitranges"
		c   = "spec: {containers: [{name: c, image: busybox"
	)
	lr := "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr}\nspec: {limits: [" +
		"{type: Container, default: {cpu: 500m, memory: 256Mi}, defaultRequest: {cpu: 100m}, max: {cpu: \"1\"}, min: {memory: 1Mi}, maxLimitRequestRatio: {cpu: \"10\"}}, " +
		"{type: Pod, max: {memory: 1Gi}}, " +
		"{type: PersistentVolumeClaim, min: {storage: 1Gi}, max: {storage: 10Gi}}]}"
	pvc := func(size string) string {
		return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: @}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: " + size + "}}}"
	}
	runScenario(t, "limitranger", []request{
		{Name: "limitrange", Method: post, Path: lrs, Body: lr},
		{Name: "wait for the limitrange", Method: wait, Path: lrs + "/lr"},
		invalid("pod defaults", podsPath, podHead+c+"}]}"),
		invalid("pod defaults init container", podsPath, podHead+c+", resources: {limits: {cpu: 200m}}}], initContainers: [{name: i, image: busybox, resources: {requests: {memory: 64Mi}}}]}"),
		invalid("pod over container max", podsPath, podHead+c+", resources: {limits: {cpu: \"2\"}}}]}"),
		invalid("pod over ratio", podsPath, podHead+c+", resources: {limits: {cpu: \"1\"}, requests: {cpu: 50m}}}]}"),
		invalid("pod under container min", podsPath, podHead+c+", resources: {requests: {memory: 100Ki}}}]}"),
		invalid("pod over pod max", podsPath, podHead+c+", resources: {limits: {memory: 2Gi}}}]}"),
		invalid("pod over pod max with sidecar", podsPath, podHead+c+", resources: {limits: {memory: 600Mi}}}], "+
			"initContainers: [{name: s, image: busybox, restartPolicy: Always, resources: {limits: {memory: 600Mi}}}]}"),
		invalid("pod two containers over", podsPath, podHead+c+", resources: {limits: {cpu: \"2\"}}}, {name: d, image: busybox, resources: {limits: {cpu: \"3\"}}}]}"),
		invalid("pod level over pod max", podsPath, podHead+"spec: {resources: {limits: {memory: 2Gi}}, containers: [{name: c, image: busybox}]}"),
		{Name: "pod update", Method: "PATCH", Path: podsPath + "/pod-defaults", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		invalid("pvc under min", pvcsPath, pvc("500Mi")),
		invalid("pvc over max", pvcsPath, pvc("20Gi")),
		invalid("pvc within", pvcsPath, pvc("5Gi")),
		{Name: "delete limitrange", Method: "DELETE", Path: lrs + "/lr"},
	})
}

// TestPriorityClassGlobalDefault: the Priority plugin's validating half:
// one PriorityClass only may be the global default.
func TestPriorityClassGlobalDefault(t *testing.T) {
	const pcs = "/apis/scheduling.k8s.io/v1/priorityclasses"
	class := func(name, def string) string {
		return "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: " + name + "}\nvalue: 9\nglobalDefault: " + def
	}
	runScenario(t, "priority-default", []request{
		{Name: "first default", Method: post, Path: pcs, Body: class("diff-first-default", "true")},
		{Name: "wait for the first default", Method: wait, Path: pcs + "/diff-first-default"},
		{Name: "second default", Method: post, Path: pcs, Body: class("diff-second-default", "true")},
		{Name: "other class", Method: post, Path: pcs, Body: class("diff-other-class", "false")},
		{Name: "other class made default", Method: "PATCH", Path: pcs + "/diff-other-class", ContentType: mergeP, Body: `{"globalDefault":true}`},
		{Name: "default class relabelled", Method: "PATCH", Path: pcs + "/diff-first-default", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "system prefix class", Method: post, Path: pcs, Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-diff}\nvalue: 9"},
		{Name: "delete other class", Method: "DELETE", Path: pcs + "/diff-other-class"},
		{Name: "delete first default", Method: "DELETE", Path: pcs + "/diff-first-default"},
	})
}

// TestPriorityPodUpdate: the Priority plugin keeps the stored priority
// and preemption policy of a pod whose update leaves them out.
func TestPriorityPodUpdate(t *testing.T) {
	runScenario(t, "priority-update", []request{
		invalid("pod", podsPath, podHead+"spec: {containers: [{name: c, image: busybox}], priorityClassName: system-cluster-critical}"),
		{Name: "priority dropped", Method: "PATCH", Path: podsPath + "/pod", ContentType: mergeP, Body: `{"spec":{"priority":null,"preemptionPolicy":null}}`},
		{Name: "priority changed", Method: "PATCH", Path: podsPath + "/pod", ContentType: mergeP, Body: `{"spec":{"priority":5}}`},
	})
}
