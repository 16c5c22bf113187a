package builtin_test

import "testing"

func TestLimitRangeValidation(t *testing.T) {
	lr := func(limits string) string { return "metadata: {name: l}\nspec: {limits: " + limits + "}" }
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts (invalid-config/limitrange ...).
		{name: "bad type", resource: "limitranges", obj: lr(`[{type: Node, max: {cpu: "1"}}]`),
			want: []string{`spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified`}},
		{name: "min above max", resource: "limitranges", obj: lr(`[{type: Container, min: {cpu: "2"}, max: {cpu: "1"}}]`),
			want: []string{`spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1`,
				`spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1`,
				`spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1`}},
		{name: "default above max", resource: "limitranges", obj: lr(`[{type: Container, default: {cpu: "2"}, max: {cpu: "1"}}]`),
			want: []string{`spec.limits[0].defaultRequest[cpu]: Invalid value: "2": default request value 2 is greater than max value 1`,
				`spec.limits[0].default[cpu]: Invalid value: "1": default value 2 is greater than max value 1`}},
		{name: "default on pod", resource: "limitranges", obj: lr(`[{type: Pod, default: {cpu: "1"}}]`),
			want: []string{"spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"}},
		// Valid limit ranges.
		{name: "valid container", resource: "limitranges",
			obj: lr(`[{type: Container, default: {cpu: 500m, memory: 512Mi}, defaultRequest: {cpu: 100m, memory: 128Mi}, max: {cpu: "2", memory: 1Gi}, min: {cpu: 50m}, maxLimitRequestRatio: {cpu: "10"}}]`)},
		{name: "valid pod and claim", resource: "limitranges",
			obj: lr(`[{type: Pod, max: {cpu: "4", memory: 8Gi}}, {type: PersistentVolumeClaim, min: {storage: 1Gi}, max: {storage: 10Gi}}]`)},
		{name: "valid qualified type", resource: "limitranges", obj: lr(`[{type: example.com/Thing, max: {example.com/x: "2"}}]`)},
		// Further upstream checks.
		{name: "duplicate type", resource: "limitranges", obj: lr(`[{type: Pod, max: {cpu: "1"}}, {type: Pod, max: {cpu: "2"}}]`),
			want: []string{`spec.limits[1].type: Duplicate value: "Pod"`}},
		{name: "claim without storage bounds", resource: "limitranges", obj: lr(`[{type: PersistentVolumeClaim, max: {cpu: "1"}}]`),
			want: []string{"spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided"}},
		{name: "bad resource for container", resource: "limitranges", obj: lr(`[{type: Container, max: {pods: "1"}}]`),
			want: []string{`spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers`,
				`spec.limits[0].default[pods]: Invalid value: "pods": must be a standard resource for containers`,
				`spec.limits[0].defaultRequest[pods]: Invalid value: "pods": must be a standard resource for containers`}},
		{name: "ratio below 1", resource: "limitranges", obj: lr(`[{type: Pod, maxLimitRequestRatio: {cpu: 500m}}]`),
			want: []string{`spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1`}},
		{name: "ratio above max/min", resource: "limitranges", obj: lr(`[{type: Pod, min: {cpu: "1"}, max: {cpu: "2"}, maxLimitRequestRatio: {cpu: "3"}}]`),
			want: []string{`spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "3": ratio 3 is greater than max/min = 2.000000`}},
		{name: "hugepages default differs", resource: "limitranges", obj: lr(`[{type: Container, default: {hugepages-2Mi: 4Mi}, defaultRequest: {hugepages-2Mi: 2Mi}}]`),
			want: []string{`spec.limits[0].defaultRequest[hugepages-2Mi]: Invalid value: "2Mi": default value 4Mi must equal to defaultRequest value 2Mi in hugepages-2Mi`}},
	})
}

func TestResourceQuotaValidation(t *testing.T) {
	rq := func(spec string) string { return "metadata: {name: q}\nspec: " + spec }
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts (invalid-config/resourcequota ...).
		{name: "bad resource", resource: "resourcequotas", obj: rq(`{hard: {"bad name!": "1"}}`),
			want: []string{`spec.hard[bad name!]: Invalid value: "bad name!": must be a standard resource for quota`,
				`spec.hard[bad name!]: Invalid value: "bad name!": ` + storageQualifiedMsg}},
		{name: "negative", resource: "resourcequotas", obj: rq(`{hard: {pods: "-1"}}`),
			want: []string{`spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0`}},
		{name: "fractional pods", resource: "resourcequotas", obj: rq(`{hard: {pods: 500m}}`),
			want: []string{`spec.hard[pods]: Invalid value: "500m": must be an integer`}},
		{name: "bad scope", resource: "resourcequotas", obj: rq(`{hard: {pods: "1"}, scopes: [Sometimes]}`),
			want: []string{`spec.scopes: Invalid value: ["Sometimes"]: unsupported scope`}},
		// Valid quotas.
		{name: "valid", resource: "resourcequotas",
			obj: rq(`{hard: {pods: "10", requests.cpu: "4", requests.memory: 8Gi, limits.cpu: "8", count/deployments.apps: "5", requests.nvidia.com/gpu: "2", services.loadbalancers: "0", hugepages-2Mi: 1Gi}}`)},
		{name: "valid scopes", resource: "resourcequotas", obj: rq(`{hard: {pods: "5", cpu: "2"}, scopes: [NotTerminating, NotBestEffort]}`)},
		{name: "valid scope selector", resource: "resourcequotas",
			obj: rq(`{hard: {pods: "5"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [high]}]}}`)},
		{name: "change hard", resource: "resourcequotas", old: rq(`{hard: {pods: "5"}, scopes: [BestEffort]}`), obj: rq(`{hard: {pods: "6"}, scopes: [BestEffort]}`)},
		// Further upstream checks.
		{name: "scope not for resource", resource: "resourcequotas", obj: rq(`{hard: {cpu: "1", services: "2"}, scopes: [BestEffort]}`),
			want: []string{`spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource`,
				`spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource`}},
		{name: "conflicting scopes", resource: "resourcequotas", obj: rq(`{hard: {pods: "1"}, scopes: [BestEffort, NotBestEffort, Terminating, NotTerminating]}`),
			want: []string{`spec.scopes: Invalid value: ["BestEffort","NotBestEffort","Terminating","NotTerminating"]: conflicting scopes`,
				`spec.scopes: Invalid value: ["BestEffort","NotBestEffort","Terminating","NotTerminating"]: conflicting scopes`}},
		{name: "scope selector checks", resource: "resourcequotas",
			obj: rq(`{hard: {services: "1"}, scopeSelector: {matchExpressions: [{scopeName: Terminating, operator: In}, {scopeName: Never, operator: Near, values: [a]}]}}`),
			want: []string{`spec.scopeSelector.matchExpressions: Invalid value: {"MatchExpressions":[{"ScopeName":"Terminating","Operator":"In","Values":null},{"ScopeName":"Never","Operator":"Near","Values":["a"]}]}: unsupported scope applied to resource`,
				"spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
				"spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
				`spec.scopeSelector.matchExpressions.scopeName: Invalid value: "Never": unsupported scope`,
				`spec.scopeSelector.matchExpressions.operator: Invalid value: "Near": not a valid selector operator`}},
		{name: "change scopes", resource: "resourcequotas", old: rq(`{hard: {pods: "5"}, scopes: [BestEffort]}`), obj: rq(`{hard: {pods: "5"}, scopes: [NotBestEffort]}`),
			want: []string{`spec.scopes: Invalid value: ["NotBestEffort"]: field is immutable`}},
		{name: "reorder scopes", resource: "resourcequotas", old: rq(`{hard: {pods: "5"}, scopes: [Terminating, BestEffort]}`),
			obj: rq(`{hard: {pods: "5"}, scopes: [BestEffort, Terminating]}`)},
	})
}
