//go:build oracle

package diff

import (
	"strings"
	"testing"
)

// storagemigration.k8s.io/v1 StorageVersionMigrations (upstream's e2e
// "StorageVersionMigration CRUD Tests"): cluster-scoped, status cleared on
// create and kept on update, the spec immutable, updates only with a
// resourceVersion, and a /status that keeps the spec and the metadata.

const svms = "/apis/storagemigration.k8s.io/v1/storageversionmigrations"

func svmBody(name, group, resource string) string {
	return "apiVersion: storagemigration.k8s.io/v1\nkind: StorageVersionMigration\nmetadata: {name: " + name + "}\n" +
		"spec: {resource: {group: \"" + group + "\", resource: \"" + resource + "\"}}"
}

// svmCondition is a status patch setting one condition.
func svmCondition(typ, status string) string {
	return `{"status":{"conditions":[{"type":"` + typ + `","status":"` + status +
		`","reason":"Test","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`
}

func TestStorageVersionMigrations(t *testing.T) {
	item := svms + "/diff-svm"
	withStatus := strings.Replace(svmBody("diff-svm-st", "", "foo"), "spec:", "status: {resourceVersion: \"5\"}\nspec:", 1)
	runScenario(t, "storagemigration", []request{
		{Name: "create", Method: post, Path: svms, Body: svmBody("diff-svm", "", "foo")},
		{Name: "create again", Method: post, Path: svms, Body: svmBody("diff-svm", "", "foo")},
		{Name: "create with status", Method: post, Path: svms, Body: withStatus},
		{Name: "create no resource", Method: post, Path: svms, Body: svmBody("diff-svm-bad", "", "")},
		{Name: "create bad resource", Method: post, Path: svms, Body: svmBody("diff-svm-bad", "Bad_Group", "Foo.bar")},
		{Name: "create bad name", Method: post, Path: svms, Body: svmBody("Bad_Name", "apps", "deployments")},
		{Name: "create with group", Method: post, Path: svms, Body: svmBody("diff-svm-apps", "apps", "deployments")},
		{Name: "get", Method: get, Path: item},
		{Name: "list", Method: get, Path: svms},
		{Name: "list as table", Method: get, Path: svms, Accept: asTable},
		{Name: "get as table", Method: get, Path: item, Accept: asTable},
		{Name: "update without rv", Method: put, Path: item, Body: svmBody("diff-svm", "", "foo")},
		{Name: "update missing", Method: put, Path: svms + "/nope", Body: svmBody("nope", "", "foo")},
		{Name: "label patch", Method: patch, Path: item, ContentType: mergeP,
			Body: `{"metadata":{"labels":{"test.storagemigration.example.com":"test"}}}`},
		{Name: "spec patch", Method: patch, Path: item, ContentType: mergeP, Body: `{"spec":{"resource":{"resource":"bar"}}}`},
		{Name: "spec patch invalid", Method: patch, Path: item, ContentType: mergeP, Body: `{"spec":{"resource":{"resource":"Bar_"}}}`},
		{Name: "status in main patch", Method: patch, Path: item, ContentType: mergeP, Body: svmCondition("Running", "True")},
		{Name: "status patch", Method: patch, Path: item + "/status", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"from-status":"yes"}},"spec":{"resource":{"resource":"baz"}},` +
				`"status":{"resourceVersion":"12","conditions":[{"type":"TestCondition","status":"True","reason":"TestReason",` +
				`"message":"TestMessage","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`},
		{Name: "get status", Method: get, Path: item + "/status"},
		{Name: "status running", Method: patch, Path: item + "/status", ContentType: mergeP, Body: svmCondition("Running", "True")},
		{Name: "get running as table", Method: get, Path: item, Accept: asTable},
		{Name: "status bad condition", Method: patch, Path: item + "/status", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"bad type","status":"Maybe","reason":"","message":"m"}]}}`},
		{Name: "status bad resourceVersion", Method: patch, Path: svms + "/diff-svm-apps/status", ContentType: mergeP,
			Body: `{"status":{"resourceVersion":"012"}}`},
		{Name: "status succeeded and failed", Method: patch, Path: svms + "/diff-svm-apps/status", ContentType: jsonP,
			Body: `[{"op":"add","path":"/status/conditions","value":[` +
				`{"type":"Succeeded","status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"},` +
				`{"type":"Failed","status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}]`},
		{Name: "status succeeded", Method: patch, Path: svms + "/diff-svm-apps/status", ContentType: mergeP, Body: svmCondition("Succeeded", "True")},
		{Name: "list after status", Method: get, Path: svms, Accept: asTable},
		{Name: "apply", Method: patch, Path: item + "?fieldManager=e2e", ContentType: applyP, ManagedFields: true,
			Body: `{"apiVersion":"storagemigration.k8s.io/v1","kind":"StorageVersionMigration","metadata":{"labels":{"applied":"yes"}}}`},
		{Name: "apply status", Method: patch, Path: item + "/status?fieldManager=e2e", ContentType: applyP, ManagedFields: true,
			Body: `{"apiVersion":"storagemigration.k8s.io/v1","kind":"StorageVersionMigration","status":{"conditions":[` +
				`{"type":"Applied","status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`},
		{Name: "get updated", Method: get, Path: item, ManagedFields: true},
		{Name: "delete", Method: del, Path: item},
		{Name: "get deleted", Method: get, Path: item},
		{Name: "delete collection", Method: del, Path: svms},
		{Name: "list empty", Method: get, Path: svms},
	})
}

// TestStorageMigrationDiscovery compares the group's discovery, its local
// APIService and its OpenAPI document.
func TestStorageMigrationDiscovery(t *testing.T) {
	runScenario(t, "storagemigrationdiscovery", []request{
		{Name: "group", Method: get, Path: "/apis/storagemigration.k8s.io"},
		{Name: "group version", Method: get, Path: "/apis/storagemigration.k8s.io/v1"},
		{Name: "v1beta1", Method: get, Path: "/apis/storagemigration.k8s.io/v1beta1"},
		{Name: "apiservice", Method: get, Path: "/apis/apiregistration.k8s.io/v1/apiservices/v1.storagemigration.k8s.io"},
		{Name: "openapi v3", Method: get, Path: "/openapi/v3/apis/storagemigration.k8s.io/v1"},
	})
}
