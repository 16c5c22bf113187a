package builtin_test

import "testing"

func TestStorageVersionMigrationValidation(t *testing.T) {
	const svms = "storagemigration.k8s.io/storageversionmigrations"
	const stored = "metadata: {name: m}\nspec: {resource: {group: apps, resource: deployments}}"
	// An update's stored and sent objects carry a resourceVersion, as the
	// store's do.
	const old = "metadata: {name: m, resourceVersion: \"1\"}\nspec: {resource: {group: apps, resource: deployments}}"
	const sent = old
	cond := func(conds string) string {
		return sent + "\nstatus: {conditions: [" + conds + "]}"
	}
	const succeeded = `{type: Succeeded, status: "True", reason: R, message: m, lastTransitionTime: "2026-01-01T00:00:00Z"}`
	const failed = `{type: Failed, status: "True", reason: R, message: m, lastTransitionTime: "2026-01-01T00:00:00Z"}`
	runVerdicts(t, []verdictCase{
		{name: "valid", resource: svms, obj: stored},
		{name: "core group", resource: svms, obj: "metadata: {name: m}\nspec: {resource: {resource: foo}}"},
		{name: "no resource", resource: svms, obj: "metadata: {name: m}\nspec: {resource: {group: apps}}",
			want: []string{"spec.resource.resource: Required value: resource is required to be set"}},
		{name: "bad resource and group", resource: svms, obj: "metadata: {name: m}\nspec: {resource: {group: Bad_Group, resource: Foo.bar}}",
			want: []string{
				`spec.resource.resource: Invalid value: "Foo.bar": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
				`spec.resource.group: Invalid value: "Bad_Group": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			}},
		{name: "label update", resource: svms, old: old,
			obj: "metadata: {name: m, resourceVersion: \"1\", labels: {a: b}}\nspec: {resource: {group: apps, resource: deployments}}"},
		{name: "spec change", resource: svms, old: old,
			obj:  "metadata: {name: m, resourceVersion: \"1\"}\nspec: {resource: {group: apps, resource: replicasets}}",
			want: []string{`spec: Invalid value: {"Resource":{"group":"apps","resource":"replicasets"}}: field is immutable`}},
		{name: "status conditions", resource: svms, old: old, obj: cond(succeeded)},
		{name: "status bad condition", resource: svms, old: old,
			obj: cond(`{type: "bad type", status: Maybe, reason: "", message: m}`),
			want: []string{
				`status.conditions[0].type: Invalid value: "bad type": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
				`status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"`,
				"status.conditions[0].lastTransitionTime: Required value",
				"status.conditions[0].reason: Required value",
			}},
		{name: "status bad resourceVersion", resource: svms, old: old,
			obj:  sent + "\nstatus: {resourceVersion: \"012\"}",
			want: []string{`status.resourceVersion: Invalid value: "012": resource version is not well formed: 012`}},
		{name: "status succeeded and failed", resource: svms, old: old, obj: cond(succeeded + ", " + failed),
			want: []string{`status.conditions: Invalid value: [{"type":"Succeeded","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"R","message":"m"},{"type":"Failed","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"R","message":"m"}]: Both success and failed conditions cannot be true at the same time`}},
	})
}
