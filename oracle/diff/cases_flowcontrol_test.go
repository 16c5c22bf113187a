//go:build oracle

package diff

import "testing"

const (
	flowSchemas    = "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas"
	priorityLevels = "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations"
)

// flowSchema is a flow schema of the diff that sends its group's requests
// to level.
func flowSchema(name, level string) string {
	return `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: ` + name + `}
spec:
  priorityLevelConfiguration: {name: ` + level + `}
  matchingPrecedence: 5000
  rules:
  - subjects: [{kind: Group, group: {name: diff-nobody}}]
    nonResourceRules: [{verbs: [get], nonResourceURLs: [/diff]}]`
}

// priorityLevel is a limited priority level that rejects.
func priorityLevel(name string) string {
	return `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: ` + name + `}
spec:
  type: Limited
  limited: {nominalConcurrencyShares: 1, limitResponse: {type: Reject}}`
}

// TestFlowControlBootstrap reads the API Priority and Fairness objects
// kube-apiserver creates and keeps (mandatory and suggested), also as
// tables, and follows the Dangling condition of a flow schema whose
// priority level comes and goes. A request between a write and the read
// that checks the condition gives both servers' controllers time to act.
func TestFlowControlBootstrap(t *testing.T) {
	var reqs []request
	for _, name := range []string{"exempt", "catch-all", "probes", "system-leader-election", "system-node-high",
		"system-nodes", "kube-controller-manager", "kube-scheduler", "kube-system-service-accounts", "service-accounts", "global-default"} {
		reqs = append(reqs, request{Name: "get flowschema " + name, Method: get, Path: flowSchemas + "/" + name})
	}
	for _, name := range []string{"exempt", "catch-all", "system", "node-high", "leader-election", "workload-high", "workload-low", "global-default"} {
		reqs = append(reqs, request{Name: "get prioritylevel " + name, Method: get, Path: priorityLevels + "/" + name})
	}
	reqs = append(reqs,
		request{Name: "flowschemas", Method: get, Path: flowSchemas},
		request{Name: "prioritylevels", Method: get, Path: priorityLevels},
		request{Name: "flowschemas as table", Method: get, Path: flowSchemas, Accept: asTable},
		request{Name: "prioritylevels as table", Method: get, Path: priorityLevels, Accept: asTable},
		request{Name: "flowschema exempt as table", Method: get, Path: flowSchemas + "/exempt?includeObject=Object", Accept: asTable},
		request{Name: "prioritylevel exempt as table", Method: get, Path: priorityLevels + "/exempt", Accept: asTable},
		request{Name: "prioritylevel workload-low as table", Method: get, Path: priorityLevels + "/workload-low", Accept: asTable},
		request{Name: "flowschemas by name", Method: get, Path: flowSchemas + "?fieldSelector=metadata.name%3Dprobes"},

		// A flow schema whose priority level does not exist yet.
		request{Name: "create dangling", Method: post, Path: flowSchemas, Body: flowSchema("diff-dangling", "diff-later")},
		request{Name: "create other level", Method: post, Path: priorityLevels, Body: priorityLevel("diff-other")},
		request{Name: "get dangling", Method: get, Path: flowSchemas + "/diff-dangling"},
		request{Name: "dangling as table", Method: get, Path: flowSchemas + "/diff-dangling", Accept: asTable},
		request{Name: "create its level", Method: post, Path: priorityLevels, Body: priorityLevel("diff-later")},
		request{Name: "get other level", Method: get, Path: priorityLevels + "/diff-other"},
		request{Name: "get found", Method: get, Path: flowSchemas + "/diff-dangling/status"},
		request{Name: "delete its level", Method: del, Path: priorityLevels + "/diff-later"},
		request{Name: "get other level again", Method: get, Path: priorityLevels + "/diff-other"},
		request{Name: "get dangling again", Method: get, Path: flowSchemas + "/diff-dangling"},
		request{Name: "point at other level", Method: patch, Path: flowSchemas + "/diff-dangling", ContentType: mergeP,
			Body: `{"spec":{"priorityLevelConfiguration":{"name":"diff-other"}}}`},
		request{Name: "get other level once more", Method: get, Path: priorityLevels + "/diff-other"},
		request{Name: "get repointed", Method: get, Path: flowSchemas + "/diff-dangling"},

		// A condition written by someone else is put back.
		request{Name: "status patch", Method: patch, Path: flowSchemas + "/diff-dangling/status", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"Dangling","status":"True","reason":"Diff","message":"by the diff"}]}}`},
		request{Name: "get other level after status", Method: get, Path: priorityLevels + "/diff-other"},
		request{Name: "get after status patch", Method: get, Path: flowSchemas + "/diff-dangling"},

		request{Name: "delete dangling", Method: del, Path: flowSchemas + "/diff-dangling"},
		request{Name: "delete other level", Method: del, Path: priorityLevels + "/diff-other"},
	)
	runScenario(t, "flowcontrol", reqs)
}
