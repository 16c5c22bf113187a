//go:build oracle

package diff

import "testing"

// admissionConfig is both servers' --admission-control-config-file: the
// ResourceQuota plugin's limitedResources, for names and a priority class
// no other case uses (pods of priority class diff-limited, and pods
// requesting example.com/diff-gpu, need a covering quota).
const admissionConfig = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ResourceQuota
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: ResourceQuotaConfiguration
    limitedResources:
    - resource: pods
      matchScopes:
      - {scopeName: PriorityClass, operator: In, values: [diff-limited]}
    - resource: pods
      matchContains: [example.com/diff-gpu]
`

func TestResourceQuotaLimitedResources(t *testing.T) {
	const (
		q    = "/api/v1/namespaces/{ns}/resourcequotas"
		pods = "/api/v1/namespaces/{ns}/pods"
	)
	pod := func(name, spec string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec: {" + spec + "containers: [{name: c, image: busybox}]}"
	}
	gpu := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec: {containers: [{name: c, image: busybox, " +
			"resources: {requests: {example.com/diff-gpu: \"1\"}, limits: {example.com/diff-gpu: \"1\"}}}]}"
	}
	runScenario(t, "quota-limited", []request{
		{Name: "priority class", Method: post, Path: "/apis/scheduling.k8s.io/v1/priorityclasses",
			Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-limited}\nvalue: 1000"},
		{Name: "plain pod", Method: post, Path: pods, Body: pod("plain", "")},
		{Name: "limited scope, no quota", Method: post, Path: pods, Body: pod("scoped", "priorityClassName: diff-limited, ")},
		{Name: "limited resource, no quota", Method: post, Path: pods, Body: gpu("gpu")},
		{Name: "unrelated quota", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: count}\nspec: {hard: {pods: \"10\"}}"},
		{Name: "unrelated status", Method: patch, Path: q + "/count/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"pods":"10"},"used":{"pods":"1"}}}`},
		{Name: "unrelated read", Method: get, Path: q + "/count"},
		{Name: "unrelated list", Method: get, Path: q, IgnoreBody: true},
		{Name: "limited scope, quota of another scope", Method: post, Path: pods, Body: pod("scoped2", "priorityClassName: diff-limited, ")},
		{Name: "limited resource, quota without it", Method: post, Path: pods, Body: gpu("gpu2")},
		{Name: "scoped quota", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: scoped}\nspec: {hard: {pods: \"5\"}, scopeSelector: " +
				"{matchExpressions: [{scopeName: PriorityClass, operator: In, values: [diff-limited]}]}}"},
		{Name: "scoped status", Method: patch, Path: q + "/scoped/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"pods":"5"},"used":{"pods":"0"}}}`},
		{Name: "gpu quota", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: gpu}\nspec: {hard: {requests.example.com/diff-gpu: \"2\"}}"},
		{Name: "gpu status", Method: patch, Path: q + "/gpu/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"requests.example.com/diff-gpu":"2"},"used":{"requests.example.com/diff-gpu":"0"}}}`},
		{Name: "scoped read", Method: get, Path: q + "/scoped"},
		{Name: "gpu read", Method: get, Path: q + "/gpu"},
		{Name: "quotas list", Method: get, Path: q, IgnoreBody: true},
		{Name: "limited scope, covered", Method: post, Path: pods, Body: pod("scoped3", "priorityClassName: diff-limited, ")},
		{Name: "limited resource, covered", Method: post, Path: pods, Body: gpu("gpu3")},
	})
}
