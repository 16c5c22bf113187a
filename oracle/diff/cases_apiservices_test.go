//go:build oracle

package diff

import "testing"

const apiServices = "/apis/apiregistration.k8s.io/v1/apiservices"

// apiService is an APIService (YAML) named version.group, local unless
// extra gives it a service.
func apiService(version, group, extra string) string {
	return "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: " + version + "." + group + "}\n" +
		"spec: {group: " + group + ", version: " + version + ", groupPriorityMinimum: 100, versionPriority: 10" + extra + "}"
}

// The autoregistered APIServices of the built-in group-versions, and the
// apiregistration.k8s.io discovery documents.
func TestAPIServicesBuiltin(t *testing.T) {
	runScenario(t, "apiservices-builtin", []request{
		{Name: "group", Method: get, Path: "/apis/apiregistration.k8s.io"},
		{Name: "group version", Method: get, Path: "/apis/apiregistration.k8s.io/v1"},
		{Name: "core", Method: get, Path: apiServices + "/v1."},
		{Name: "apps", Method: get, Path: apiServices + "/v1.apps"},
		{Name: "autoscaling v2", Method: get, Path: apiServices + "/v2.autoscaling"},
		{Name: "apps status", Method: get, Path: apiServices + "/v1.apps/status"},
		{Name: "apps as table", Method: get, Path: apiServices + "/v1.apps", Accept: asTable},
		{Name: "apps protobuf", Method: get, Path: apiServices + "/v1.apps", Accept: "application/vnd.kubernetes.protobuf"},
		{Name: "apps yaml", Method: get, Path: apiServices + "/v1.apps", Accept: "application/yaml"},
		{Name: "apiregistration has none", Method: get, Path: apiServices + "/v1.apiregistration.k8s.io"},
		{Name: "by name", Method: get, Path: apiServices + "?fieldSelector=metadata.name%3Dv1.batch"},
		{Name: "by empty namespace", Method: get, Path: apiServices + "?fieldSelector=metadata.namespace%3D&labelSelector=nothing"},
		{Name: "by namespace", Method: get, Path: apiServices + "?fieldSelector=metadata.namespace%3Ddefault"},
		{Name: "by spec", Method: get, Path: apiServices + "?fieldSelector=spec.group%3Dapps"},
		{Name: "by label", Method: get, Path: apiServices + "?labelSelector=kube-aggregator.kubernetes.io/automanaged%21%3Donstart"},
		{Name: "list protobuf", Method: get, Path: apiServices + "?limit=2", Accept: "application/vnd.kubernetes.protobuf"},
		{Name: "list", Method: get, Path: apiServices, IgnoreBody: true},
		{Name: "list as table", Method: get, Path: apiServices, Accept: asTable, IgnoreBody: true},
	})
}

// A local APIService through its whole life, and a remote one's defaults.
func TestAPIServices(t *testing.T) {
	local := groupObject{step: "local", collection: apiServices, name: "v1alpha1.diff.example.com",
		body: apiService("v1alpha1", "diff.example.com", ""), conditional: true, update: labelPatch,
		status: `{"status":{"conditions":[{"type":"Available","status":"False","reason":"Diff","message":"by the diff"}]}}`}
	reqs := local.requests()
	item := apiServices + "/v1alpha1.diff.example.com"
	reqs = append(reqs[:len(reqs)-2], // before the delete
		request{Name: "local status as table", Method: get, Path: item, Accept: asTable},
		request{Name: "local status unsupported", Method: patch, Path: item + "/status", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"Available","status":"Maybe"}]}}`},
		request{Name: "local status drops labels", Method: patch, Path: item + "/status", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"from-status":"yes"}},"spec":{"versionPriority":99},"status":{"conditions":[]}}`},
		request{Name: "local spec patch keeps status", Method: patch, Path: item, ContentType: mergeP,
			Body: `{"spec":{"versionPriority":20},"status":{"conditions":[]}}`},
		request{Name: "local strategic status", Method: patch, Path: item + "/status", ContentType: smpP,
			Body: `{"status":{"conditions":[{"type":"Other","status":"Unknown"}]}}`},
		request{Name: "local get after patches", Method: get, Path: item},
		request{Name: "local rename", Method: patch, Path: item, ContentType: mergeP, Body: `{"spec":{"version":"v1beta1"}}`},
	)
	reqs = append(reqs, local.requests()[len(local.requests())-2:]...)
	reqs = append(reqs,
		request{Name: "remote create", Method: post, Path: apiServices,
			Body: apiService("v1alpha1", "remote.diff.example.com", ", service: {namespace: default, name: diff-remote}")},
		request{Name: "remote as table", Method: get, Path: apiServices + "/v1alpha1.remote.diff.example.com", Accept: asTable, IgnoreBody: true},
		request{Name: "remote delete", Method: del, Path: apiServices + "/v1alpha1.remote.diff.example.com"},
		request{Name: "dry run create", Method: post, Path: apiServices + "?dryRun=All", Body: apiService("v1", "dry.diff.example.com", "")},
		request{Name: "dry run is not stored", Method: get, Path: apiServices + "/v1.dry.diff.example.com"},
	)
	runScenario(t, "apiservices", reqs)
}

// Creates that upstream's ValidateAPIService refuses.
func TestAPIServiceValidation(t *testing.T) {
	svc := func(ref string) string { return ", service: {" + ref + "}" }
	runScenario(t, "apiservicevalidation", []request{
		invalid("name not version group", apiServices,
			"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.other.example.com}\n"+
				"spec: {group: diff.example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1}"),
		invalid("name not a path segment", apiServices,
			"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: \"v1.a%b\"}\n"+
				"spec: {group: \"a%b\", version: v1, groupPriorityMinimum: 1, versionPriority: 1}"),
		invalid("empty group not v1", apiServices, apiService("v2", "", "")),
		invalid("bad group", apiServices, apiService("v1", "Diff_Group", "")),
		invalid("bad version", apiServices, apiService("V1", "diff.example.com", "")),
		invalid("no priorities", apiServices,
			"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.diff.example.com}\n"+
				"spec: {group: diff.example.com, version: v1}"),
		invalid("priorities too high", apiServices,
			"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.diff.example.com}\n"+
				"spec: {group: diff.example.com, version: v1, groupPriorityMinimum: 20001, versionPriority: 1001}"),
		invalid("local ca bundle", apiServices, apiService("v1", "diff.example.com", ", caBundle: Zm9v")),
		invalid("local insecure", apiServices, apiService("v1", "diff.example.com", ", insecureSkipTLSVerify: true")),
		invalid("service without name", apiServices, apiService("v1", "diff.example.com", svc("namespace: default"))),
		invalid("service without namespace", apiServices, apiService("v1", "diff.example.com", svc("name: s"))),
		invalid("service bad port", apiServices, apiService("v1", "diff.example.com", svc("namespace: default, name: s, port: 0"))),
		invalid("service insecure and ca bundle", apiServices,
			apiService("v1", "diff.example.com", svc("namespace: default, name: s")+", insecureSkipTLSVerify: true, caBundle: Zm9v")),
		invalid("bad label", apiServices,
			"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.other.example.com, labels: {\"-x\": y}}\n"+
				"spec: {group: diff.example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1}"),
		{Name: "namespaced path", Method: get, Path: "/apis/apiregistration.k8s.io/v1/namespaces/default/apiservices"},
		{Name: "delete missing", Method: del, Path: apiServices + "/v1.nope.example.com"},
	})
}
