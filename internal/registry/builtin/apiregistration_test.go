package builtin_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// The causes of kube-aggregator's ValidateAPIService (the oracle's, for
// the cases its suite cannot send: a generated name is random).
func TestAPIServiceVerdicts(t *testing.T) {
	const head = "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\n"
	runVerdicts(t, []verdictCase{
		{name: "local", resource: "apiregistration.k8s.io/apiservices",
			obj: head + "metadata: {name: v1.example.com}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1}"},
		{name: "core", resource: "apiregistration.k8s.io/apiservices",
			obj: head + "metadata: {name: v1.}\nspec: {version: v1, groupPriorityMinimum: 18000, versionPriority: 1}"},
		{name: "generated name", resource: "apiregistration.k8s.io/apiservices",
			obj: head + "metadata: {generateName: v1.x, name: v1.xabcde}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1}",
			want: []string{
				"metadata.generateName: Invalid value: \"v1.x\": must be `spec.version+\".\"+spec.group`: \"v1.example.com\"",
				"metadata.name: Invalid value: \"v1.xabcde\": must be `spec.version+\".\"+spec.group`: \"v1.example.com\""}},
		{name: "remote port defaulted", resource: "apiregistration.k8s.io/apiservices",
			obj: head + "metadata: {name: v1.example.com}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1, service: {namespace: ns, name: s}}"},
		{name: "remote port 0", resource: "apiregistration.k8s.io/apiservices",
			obj:  head + "metadata: {name: v1.example.com}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1, service: {namespace: ns, name: s, port: 0}}",
			want: []string{"spec.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive"}},
		{name: "status", resource: "apiregistration.k8s.io/apiservices",
			old: head + "metadata: {name: v1.example.com}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1}",
			obj: head + "metadata: {name: v1.example.com}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1, versionPriority: 1}\n" +
				"status: {conditions: [{type: Available, status: Maybe}]}",
			want: []string{`status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"`}},
	})
}

// The printer columns of the aggregator's ConvertToTable.
func TestAPIServiceColumns(t *testing.T) {
	row := apiServiceRow(t)
	port := int32(443)
	for _, c := range []struct {
		svc        *apiregistrationv1.ServiceReference
		conditions []apiregistrationv1.APIServiceCondition
		service    string
		available  string
	}{
		{nil, nil, "Local", "Unknown"},
		{nil, []apiregistrationv1.APIServiceCondition{{Type: "Available", Status: "True", Reason: "Local"}}, "Local", "True"},
		{&apiregistrationv1.ServiceReference{Namespace: "ns", Name: "s", Port: &port},
			[]apiregistrationv1.APIServiceCondition{{Type: "Other", Status: "True"}, {Type: "Available", Status: "False", Reason: "ServiceNotFound"}},
			"ns/s", "False (ServiceNotFound)"},
		{nil, []apiregistrationv1.APIServiceCondition{{Type: "Available", Status: "Unknown"}}, "Local", "Unknown"},
	} {
		s := &apiregistrationv1.APIService{Spec: apiregistrationv1.APIServiceSpec{Service: c.svc},
			Status: apiregistrationv1.APIServiceStatus{Conditions: c.conditions}}
		if got := cells(row, s); got[0] != c.service || got[1] != c.available {
			t.Errorf("%+v %+v: cells %v, want %s %s", c.svc, c.conditions, got, c.service, c.available)
		}
	}
}

func apiServiceRow(t *testing.T) *registry.Resource {
	t.Helper()
	for _, r := range builtin.Resources() {
		if r.Group == apiregistrationv1.GroupName && r.Resource == "apiservices" {
			return r
		}
	}
	t.Fatal("no apiservices row")
	return nil
}

func cells(r *registry.Resource, obj runtime.Object) []any {
	var out []any
	for _, c := range r.Columns {
		out = append(out, c.Cell(obj))
	}
	return out
}
