package builtin_test

import "testing"

const (
	netSubdomainMsg = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
	netLabelMsg     = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`
	netWildcardMsg  = `a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
	netPortRangeMsg = "must be between 1 and 65535, inclusive"
	netNamePartMsg  = `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`
)

func ingObj(spec string) string { return "metadata: {name: i}\nspec: " + spec }

func TestIngressValidation(t *testing.T) {
	const backend = "backend: {service: {name: s, port: {number: 80}}}"
	const svc = "{defaultBackend: {service: {name: s, port: {number: 80}}}"
	rule := func(host, path string) string {
		return "{rules: [{host: " + host + ", http: {paths: [" + path + "]}}]}"
	}
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts.
		{name: "without backend or rules", resource: "networking.k8s.io/ingresses", obj: ingObj("{}"),
			want: []string{"spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"}},
		{name: "bad host", resource: "networking.k8s.io/ingresses", obj: ingObj(rule("Bad_Host", "{path: /, pathType: Prefix, "+backend+"}")),
			want: []string{`spec.rules[0].host: Invalid value: "Bad_Host": ` + netSubdomainMsg}},
		{name: "IP host", resource: "networking.k8s.io/ingresses", obj: ingObj(rule("1.2.3.4", "{path: /, pathType: Prefix, "+backend+"}")),
			want: []string{`spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address`}},
		{name: "relative path", resource: "networking.k8s.io/ingresses", obj: ingObj("{rules: [{http: {paths: [{path: foo, pathType: Prefix, " + backend + "}]}}]}"),
			want: []string{`spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path`}},
		{name: "missing pathType", resource: "networking.k8s.io/ingresses", obj: ingObj("{rules: [{http: {paths: [{path: /, " + backend + "}]}}]}"),
			want: []string{"spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"}},
		{name: "bad pathType", resource: "networking.k8s.io/ingresses", obj: ingObj("{rules: [{http: {paths: [{path: /, pathType: Glob, " + backend + "}]}}]}"),
			want: []string{`spec.rules[0].http.paths[0].pathType: Unsupported value: "Glob": supported values: "Exact", "ImplementationSpecific", "Prefix"`}},
		{name: "service and resource", resource: "networking.k8s.io/ingresses",
			obj:  ingObj("{defaultBackend: {service: {name: s, port: {number: 80}}, resource: {kind: K, name: r}}}"),
			want: []string{`spec.defaultBackend: Invalid value: "": cannot set both resource and service backends`}},
		{name: "service without port", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {name: s}}}"),
			want: []string{"spec.defaultBackend: Required value: port name or number is required"}},
		{name: "bad port name", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {name: s, port: {name: Bad_Port}}}}"),
			want: []string{`spec.defaultBackend.service.port.name: Invalid value: "Bad_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`}},
		{name: "tls bad host", resource: "networking.k8s.io/ingresses",
			obj:  ingObj("{defaultBackend: {service: {name: s, port: {number: 80}}}, tls: [{hosts: [Bad_Host]}]}"),
			want: []string{`spec.tls[0].hosts[0]: Invalid value: "Bad_Host": ` + netSubdomainMsg}},

		// Accepted.
		{name: "typical", resource: "networking.k8s.io/ingresses",
			obj: "metadata: {name: web, annotations: {kubernetes.io/ingress.class: nginx, nginx.ingress.kubernetes.io/rewrite-target: /}}\n" +
				"spec: {ingressClassName: nginx, tls: [{hosts: [example.com, '*.example.com'], secretName: web-tls}], rules: [" +
				"{host: example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}, " +
				"{path: /api/v1, pathType: Exact, " + backend + "}]}}, " +
				"{host: '*.example.com', http: {paths: [{pathType: ImplementationSpecific, " + backend + "}]}}, " +
				"{http: {paths: [{path: /static, pathType: Prefix, backend: {resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: static}}}]}}]}"},
		{name: "default backend only", resource: "networking.k8s.io/ingresses", obj: ingObj(svc + "}")},
		{name: "service name starting with a digit", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {name: 1web, port: {number: 8080}}}}")},
		{name: "rule without http", resource: "networking.k8s.io/ingresses", obj: ingObj("{rules: [{host: foo.com}]}")},
		{name: "regex path ImplementationSpecific", resource: "networking.k8s.io/ingresses",
			obj: ingObj(rule("foo.com", "{path: '/api(/|$)(.*)', pathType: ImplementationSpecific, "+backend+"}"))},
		{name: "update changes class annotation", resource: "networking.k8s.io/ingresses",
			old: "metadata: {name: i, annotations: {kubernetes.io/ingress.class: nginx}}\nspec: " + svc + "}",
			obj: "metadata: {name: i, resourceVersion: '5', annotations: {kubernetes.io/ingress.class: nginx}}\nspec: " + svc + ", ingressClassName: other}"},

		// Further upstream rules.
		{name: "class annotation mismatch", resource: "networking.k8s.io/ingresses",
			obj:  "metadata: {name: i, annotations: {kubernetes.io/ingress.class: nginx}}\nspec: " + svc + ", ingressClassName: other}",
			want: []string{`annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match ` + "`ingressClassName`" + ` when both are specified`}},
		{name: "bad ingressClassName", resource: "networking.k8s.io/ingresses", obj: ingObj(svc + ", ingressClassName: Bad_Class}"),
			want: []string{`spec.ingressClassName: Invalid value: "Bad_Class": ` + netSubdomainMsg}},
		{name: "bad tls secretName", resource: "networking.k8s.io/ingresses", obj: ingObj(svc + ", tls: [{secretName: Bad_Secret}]}"),
			want: []string{`spec.tls[0].secretName: Invalid value: "Bad_Secret": ` + netSubdomainMsg}},
		{name: "bad wildcard host", resource: "networking.k8s.io/ingresses", obj: ingObj(rule("'*.*.foo.com'", "{path: /, pathType: Prefix, "+backend+"}")),
			want: []string{`spec.rules[0].host: Invalid value: "*.*.foo.com": ` + netWildcardMsg}},
		{name: "no paths", resource: "networking.k8s.io/ingresses", obj: ingObj("{rules: [{host: foo.com, http: {paths: []}}]}"),
			want: []string{"spec.rules[0].http.paths: Required value"}},
		{name: "bad path sequences", resource: "networking.k8s.io/ingresses", obj: ingObj(rule("foo.com", "{path: '/a//b/..', pathType: Exact, "+backend+"}")),
			want: []string{`spec.rules[0].http.paths[0].path: Invalid value: "/a//b/..": must not contain '//'`,
				`spec.rules[0].http.paths[0].path: Invalid value: "/a//b/..": cannot end with '/..'`}},
		{name: "empty prefix path", resource: "networking.k8s.io/ingresses", obj: ingObj(rule("foo.com", "{pathType: Prefix, "+backend+"}")),
			want: []string{`spec.rules[0].http.paths[0].path: Invalid value: "": must be an absolute path`}},
		{name: "backend without service or resource", resource: "networking.k8s.io/ingresses",
			obj:  ingObj(rule("foo.com", "{path: /, pathType: Prefix, backend: {}}")),
			want: []string{`spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required`}},
		{name: "port name and number", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {name: s, port: {name: http, number: 80}}}}"),
			want: []string{`spec.defaultBackend: Invalid value: "": cannot set both port name & port number`}},
		{name: "port number out of range", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {name: s, port: {number: 70000}}}}"),
			want: []string{"spec.defaultBackend.service.port.number: Invalid value: 70000: " + netPortRangeMsg}},
		{name: "bad service name", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {name: my.svc, port: {number: 80}}}}"),
			want: []string{`spec.defaultBackend.service.name: Invalid value: "my.svc": must not contain dots`}},
		{name: "missing service name", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {service: {port: {number: 80}}}}"),
			want: []string{"spec.defaultBackend.service.name: Required value"}},
		{name: "resource without kind and name", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {resource: {apiGroup: Bad_Group}}}"),
			want: []string{`spec.defaultBackend.resource.apiGroup: Invalid value: "Bad_Group": ` + netSubdomainMsg,
				"spec.defaultBackend.resource.kind: Required value", "spec.defaultBackend.resource.name: Required value"}},
		{name: "resource name with slash", resource: "networking.k8s.io/ingresses", obj: ingObj("{defaultBackend: {resource: {kind: K, name: a/b}}}"),
			want: []string{`spec.defaultBackend.resource.name: Invalid value: "a/b": may not contain '/'`}},
		{name: "status bad hostname", resource: "networking.k8s.io/ingresses",
			obj: ingObj(svc+"}") + "\nstatus: {loadBalancer: {ingress: [{ip: 1.2.3.4, hostname: 10.0.0.1}, {ip: 1.2.3}]}}",
			want: []string{`status.loadBalancer.ingress[0].hostname: Invalid value: "10.0.0.1": must be a DNS name, not an IP address`,
				`status.loadBalancer.ingress[1].ip: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
	})
}

func npObj(spec string) string { return "metadata: {name: np}\nspec: " + spec }

func TestNetworkPolicyValidation(t *testing.T) {
	const res = "networking.k8s.io/networkpolicies"
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts.
		{name: "bad policyTypes", resource: res, obj: npObj("{podSelector: {}, policyTypes: [Sideways]}"),
			want: []string{`spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"`}},
		{name: "bad port protocol", resource: res, obj: npObj("{podSelector: {}, ingress: [{ports: [{protocol: HTTP, port: 80}]}]}"),
			want: []string{`spec.ingress[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"`}},
		{name: "bad cidr", resource: res, obj: npObj("{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}"),
			want: []string{`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`}},
		{name: "except outside cidr", resource: res, obj: npObj("{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]}"),
			want: []string{"spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/16\": must be a strict subset of `cidr`"}},
		{name: "ipBlock and selector", resource: res, obj: npObj("{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}"),
			want: []string{"spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"}},
		{name: "bad podSelector", resource: res, obj: npObj(`{podSelector: {matchLabels: {"bad key!": x}}}`),
			want: []string{`spec.podSelector.matchLabels: Invalid value: "bad key!": ` + netNamePartMsg}},
		{name: "endPort below port", resource: res, obj: npObj("{podSelector: {}, egress: [{ports: [{port: 90, endPort: 80}]}]}"),
			want: []string{"spec.egress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`"}},

		// Accepted.
		{name: "deny all", resource: res, obj: npObj("{podSelector: {}, policyTypes: [Ingress, Egress]}")},
		{name: "typical", resource: res, obj: npObj("{podSelector: {matchLabels: {app: db}}, ingress: [{from: [" +
			"{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}, podSelector: {matchExpressions: [{key: role, operator: In, values: [frontend]}]}}, " +
			"{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}}], ports: [{protocol: TCP, port: 5432}, {port: http}, {protocol: UDP, port: 32000, endPort: 32768}]}], " +
			"egress: [{to: [{ipBlock: {cidr: 'fd00::/8'}}], ports: [{protocol: SCTP}]}, {}]}")},
		{name: "empty ingress rule", resource: res, obj: npObj("{podSelector: {}, ingress: [{}]}")},

		// Further upstream rules.
		{name: "empty peer", resource: res, obj: npObj("{podSelector: {}, ingress: [{from: [{}]}]}"),
			want: []string{"spec.ingress[0].from[0]: Required value: must specify a peer"}},
		{name: "ipBlock without cidr", resource: res,
			obj: npObj("{podSelector: {}, ingress: [{from: [{ipBlock: {except: [10.0.0.0/8]}}], ports: [{port: 0}]}]}"),
			want: []string{"spec.ingress[0].ports[0].port: Invalid value: 0: " + netPortRangeMsg,
				"spec.ingress[0].from[0].ipBlock.cidr: Required value"}},
		{name: "except not strict subset", resource: res, obj: npObj("{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8, 10.1.0.0/33]}}]}]}"),
			want: []string{"spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`",
				`spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "10.1.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`}},
		{name: "cidr with host bits", resource: res, obj: npObj("{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]}"),
			want: []string{`spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.1/8": must not have bits set beyond the prefix length`}},
		{name: "endPort with named port", resource: res, obj: npObj("{podSelector: {}, egress: [{ports: [{port: dns, endPort: 80}, {endPort: 90}, {port: Bad--Name}]}]}"),
			want: []string{"spec.egress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is non-numeric",
				"spec.egress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is not specified",
				`spec.egress[0].ports[2].port: Invalid value: "Bad--Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
				`spec.egress[0].ports[2].port: Invalid value: "Bad--Name": must not contain consecutive hyphens`}},
		{name: "too many policyTypes", resource: res, obj: npObj("{podSelector: {}, policyTypes: [Ingress, Egress, Ingress]}"),
			want: []string{`spec.policyTypes: Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes`}},
		{name: "bad namespaceSelector operator", resource: res,
			obj:  npObj("{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}}]}]}"),
			want: []string{"spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"}},
	})
}

func epsObj(rest string) string { return "metadata: {name: e}\n" + rest }

func TestEndpointSliceValidation(t *testing.T) {
	const res = "discovery.k8s.io/endpointslices"
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts.
		{name: "bad addressType", resource: res, obj: epsObj("addressType: IPv5\nendpoints: []"),
			want: []string{`addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"`}},
		{name: "endpoint without addresses", resource: res, obj: epsObj("addressType: IPv4\nendpoints: [{addresses: []}]"),
			want: []string{"endpoints[0].addresses: Required value"}},
		{name: "bad IPv4 address", resource: res, obj: epsObj("addressType: IPv4\nendpoints: [{addresses: [\"::1\"]}]"),
			want: []string{`endpoints[0].addresses: Invalid value: "::1": must be an IPv4 address`,
				`endpoints[0].addresses[0]: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
		{name: "bad port name", resource: res, obj: epsObj("addressType: IPv4\nendpoints: []\nports: [{name: Bad_Port, port: 80}]"),
			want: []string{`ports[0].name: Invalid value: "Bad_Port": ` + netLabelMsg}},
		{name: "bad fqdn", resource: res, obj: epsObj("addressType: FQDN\nendpoints: [{addresses: [\"Bad_Name\"]}]"),
			want: []string{`endpoints[0].addresses[0]: Invalid value: "Bad_Name": ` + netSubdomainMsg}},
		{name: "bad hostname", resource: res, obj: epsObj("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], hostname: Bad_Host}]"),
			want: []string{`endpoints[0].hostname: Invalid value: "Bad_Host": ` + netLabelMsg}},

		// Accepted.
		{name: "typical", resource: res, obj: "metadata: {name: web-abc12, labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}\n" +
			"addressType: IPv4\nendpoints: [{addresses: [10.244.1.5], conditions: {ready: true, serving: true, terminating: false}, nodeName: node-1, zone: us-east-1a, " +
			"targetRef: {kind: Pod, namespace: default, name: web-0, uid: 8e4f0a4c-1d3e-4c8e-9a3c-2d7b1d2c5e6f}, hostname: web-0, hints: {forZones: [{name: us-east-1a}], forNodes: [{name: node-1}]}}]\n" +
			"ports: [{name: http, protocol: TCP, port: 80, appProtocol: kubernetes.io/h2c}, {port: 53, protocol: UDP}]"},
		{name: "IPv6", resource: res, obj: epsObj("addressType: IPv6\nendpoints: [{addresses: ['fd00::5']}]\nports: [{name: '', port: 80}]")},
		{name: "FQDN", resource: res, obj: epsObj("addressType: FQDN\nendpoints: [{addresses: [db.example.com.]}]")},
		{name: "no endpoints", resource: res, obj: epsObj("addressType: IPv4\nendpoints: null")},

		// Further upstream rules.
		{name: "missing addressType", resource: res, obj: epsObj("endpoints: [{addresses: []}]\nports: [{name: Bad_Port}]"),
			want: []string{`ports[0].name: Invalid value: "Bad_Port": ` + netLabelMsg, "addressType: Required value", "endpoints[0].addresses: Required value"}},
		{name: "IPv4 invalid forms", resource: res, obj: epsObj("addressType: IPv4\nendpoints: [{addresses: [010.0.0.1, 0.0.0.0, 169.254.1.1, 224.0.0.1, abc]}]"),
			want: []string{`endpoints[0].addresses[0]: Invalid value: "010.0.0.1": must not have leading 0s`,
				`endpoints[0].addresses[1]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)`,
				`endpoints[0].addresses[2]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`,
				`endpoints[0].addresses[3]: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)`,
				`endpoints[0].addresses[4]: Invalid value: "abc": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{name: "IPv6 invalid forms", resource: res, obj: epsObj("addressType: IPv6\nendpoints: [{addresses: ['FD00::1', 10.0.0.1]}]"),
			want: []string{`endpoints[0].addresses[0]: Invalid value: "FD00::1": must be in canonical form ("fd00::1")`,
				`endpoints[0].addresses: Invalid value: "10.0.0.1": must be an IPv6 address`}},
		{name: "fqdn one segment", resource: res, obj: epsObj("addressType: FQDN\nendpoints: [{addresses: [db]}]"),
			want: []string{`endpoints[0].addresses[0]: Invalid value: "db": should be a domain with at least two segments separated by dots`}},
		{name: "ports", resource: res, obj: epsObj("addressType: IPv4\nendpoints: []\nports: [{name: a, protocol: HTTP}, {name: a, appProtocol: 'bad proto'}]"),
			want: []string{`ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`,
				`ports[1].name: Duplicate value: "a"`,
				`ports[1].appProtocol: Invalid value: "bad proto": ` + netNamePartMsg}},
		{name: "node name and hints", resource: res,
			obj: epsObj("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], nodeName: Node_1, hints: {forZones: [{name: a}, {name: a}, {name: 'b c'}], forNodes: [{name: node}, {name: node}]}}]"),
			want: []string{`endpoints[0].nodeName: Invalid value: "Node_1": ` + netSubdomainMsg,
				`endpoints[0].hints.forZones[1].name: Duplicate value: "a"`,
				`endpoints[0].hints.forZones[2].name: Invalid value: "b c": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
				`endpoints[0].hints.forNodes[1].name: Duplicate value: "node"`}},
		{name: "change addressType", resource: res,
			old:  epsObj("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1]}]"),
			obj:  epsObj("addressType: FQDN\nendpoints: [{addresses: [10.0.0.1]}]"),
			want: []string{"addressType: Invalid value: null: field is immutable"}},
	})
}
