package builtin_test

import "testing"

func TestWorkloadValidation(t *testing.T) {
	const tmpl = "template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: busybox}]}}"
	const jobTmpl = "template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}"
	const job = "metadata: {name: j}\nspec: {manualSelector: true, selector: {matchLabels: {app: j}}, template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"
	runVerdicts(t, []verdictCase{
		{name: "deployment without selector", resource: "apps/deployments", obj: "metadata: {name: d}\nspec: {" + tmpl + "}",
			want: []string{"spec.selector: Required value",
				"spec.template.metadata.labels: Invalid value: {\"app\":\"a\"}: `selector` does not match template `labels`"}},
		{name: "deployment bad strategy", resource: "apps/deployments",
			obj:  "metadata: {name: d}\nspec: {strategy: {type: Sideways}, selector: {matchLabels: {app: a}}, " + tmpl + "}",
			want: []string{`spec.strategy: Unsupported value: {"Type":"Sideways","RollingUpdate":null}: supported values: "Recreate", "RollingUpdate"`}},
		{name: "deployment zero surge and unavailable", resource: "apps/deployments",
			obj:  "metadata: {name: d}\nspec: {strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}, selector: {matchLabels: {app: a}}, " + tmpl + "}",
			want: []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"}},
		{name: "deployment progress deadline", resource: "apps/deployments",
			obj:  "metadata: {name: d}\nspec: {minReadySeconds: 10, progressDeadlineSeconds: 5, selector: {matchLabels: {app: a}}, " + tmpl + "}",
			want: []string{"spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"}},
		{name: "statefulset bad podManagementPolicy", resource: "apps/statefulsets",
			obj:  "metadata: {name: s}\nspec: {podManagementPolicy: Random, selector: {matchLabels: {app: a}}, " + tmpl + "}",
			want: []string{`spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'`}},
		{name: "statefulset change podManagementPolicy", resource: "apps/statefulsets",
			old:  "metadata: {name: s}\nspec: {selector: {matchLabels: {app: a}}, " + tmpl + "}",
			obj:  "metadata: {name: s}\nspec: {podManagementPolicy: Parallel, selector: {matchLabels: {app: a}}, " + tmpl + "}",
			want: []string{`spec.podManagementPolicy: Invalid value: "Parallel": field is immutable`}},
		{name: "daemonset zero surge and unavailable", resource: "apps/daemonsets",
			obj:  "metadata: {name: d}\nspec: {updateStrategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}, selector: {matchLabels: {app: a}}, " + tmpl + "}",
			want: []string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"}},
		{name: "job restartPolicy Always", resource: "batch/jobs",
			obj:  "metadata: {name: j}\nspec: {template: {spec: {restartPolicy: Always, containers: [{name: c, image: busybox}]}}}",
			want: []string{`spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`}},
		{name: "job bad completionMode", resource: "batch/jobs", obj: "metadata: {name: j}\nspec: {completionMode: Sometimes, " + jobTmpl + "}",
			want: []string{`spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"`}},
		{name: "job change template", resource: "batch/jobs", old: job,
			obj:  "metadata: {name: j}\nspec: {manualSelector: true, selector: {matchLabels: {app: j}}, template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: nginx}]}}}",
			want: []string{`spec.template: Invalid value: {"labels":{"app":"j"},"Spec":{"Volumes":null,"InitContainers":null,"Containers":[{"Name":"c","Image":"nginx","Command":null,"Args":null,"WorkingDir":"","Ports":null,"EnvFrom":null,"Env":null,"Resources":{"Limits":null,"Requests":null,"Claims":null},"ResizePolicy":null,"RestartPolicy":null,"RestartPolicyRules":null,"VolumeMounts":null,"VolumeDevices":null,"LivenessProbe":null,"ReadinessProbe":null,"StartupProbe":null,"Lifecycle":null,"TerminationMessagePath":"/dev/termination-log","TerminationMessagePolicy":"File","ImagePullPolicy":"Always","SecurityContext":null,"Stdin":false,"StdinOnce":false,"TTY":false}],"EphemeralContainers":null,"RestartPolicy":"Never","TerminationGracePeriodSeconds":30,"ActiveDeadlineSeconds":null,"DNSPolicy":"ClusterFirst","NodeSelector":null,"ServiceAccountName":"","DeprecatedServiceAccount":"","AutomountServiceAccountToken":null,"NodeName":"","HostNetwork":false,"HostPID":false,"HostIPC":false,"ShareProcessNamespace":null,"SecurityContext":{"SELinuxOptions":null,"WindowsOptions":null,"RunAsUser":null,"RunAsGroup":null,"RunAsNonRoot":null,"SupplementalGroups":null,"SupplementalGroupsPolicy":null,"FSGroup":null,"Sysctls":null,"FSGroupChangePolicy":null,"SeccompProfile":null,"AppArmorProfile":null,"SELinuxChangePolicy":null},"ImagePullSecrets":null,"Hostname":"","Subdomain":"","Affinity":null,"SchedulerName":"default-scheduler","Tolerations":null,"HostAliases":null,"PriorityClassName":"","Priority":null,"DNSConfig":null,"ReadinessGates":null,"RuntimeClassName":null,"EnableServiceLinks":null,"PreemptionPolicy":null,"Overhead":null,"TopologySpreadConstraints":null,"SetHostnameAsFQDN":null,"OS":null,"HostUsers":null,"SchedulingGates":null,"ResourceClaims":null,"Resources":null,"HostnameOverride":null,"SchedulingGroup":null,"EvictionResponders":null}}: field is immutable`}},
		{name: "job change completions", resource: "batch/jobs", old: job,
			obj:  "metadata: {name: j}\nspec: {completions: 3, manualSelector: true, selector: {matchLabels: {app: j}}, template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}",
			want: []string{"spec.completions: Invalid value: 3: field is immutable"}},
		{name: "indexed job dotted name", resource: "batch/jobs", obj: "metadata: {name: job.x}\nspec: {completionMode: Indexed, completions: 2, " + jobTmpl + "}",
			want: []string{`metadata.name: Invalid value: "job.x": will not able to create pod with invalid DNS label: job.x-1`}},
		{name: "indexed job without completions", resource: "batch/jobs", obj: "metadata: {name: j}\nspec: {completionMode: Indexed, parallelism: 100001, " + jobTmpl + "}",
			want: []string{"spec.completions: Required value: when completion mode is Indexed",
				"spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed"}},
		{name: "non-indexed job with backoff per index", resource: "batch/jobs", obj: "metadata: {name: job.x}\nspec: {backoffLimitPerIndex: 1, " + jobTmpl + "}",
			want: []string{"spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"}},
		{name: "indexed job renamed by update", resource: "batch/jobs",
			old:  "metadata: {name: j}\nspec: {completionMode: Indexed, completions: 2, manualSelector: true, selector: {matchLabels: {app: j}}, template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}",
			obj:  "metadata: {name: j12345678901234567890123456789012345678901234567890123456789012}\nspec: {completionMode: Indexed, completions: 2, manualSelector: true, selector: {matchLabels: {app: j}}, template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}",
			want: []string{`metadata.name: Invalid value: "j12345678901234567890123456789012345678901234567890123456789012": will not able to create pod with invalid DNS label: j12345678901234567890123456789012345678901234567890123456789012-1`}},
		{name: "cronjob bad schedule", resource: "batch/cronjobs",
			obj:  "metadata: {name: c}\nspec: {schedule: not a cron, jobTemplate: {spec: {" + jobTmpl + "}}}",
			want: []string{`spec.schedule: Invalid value: "not a cron": expected exactly 5 fields, found 3: [not a cron]`}},
		{name: "cronjob bad timeZone", resource: "batch/cronjobs",
			obj:  "metadata: {name: c}\nspec: {schedule: \"* * * * *\", timeZone: Mars/Olympus, jobTemplate: {spec: {" + jobTmpl + "}}}",
			want: []string{`spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus`}},
	})
}

func TestServiceSpecValidation(t *testing.T) {
	svc := func(spec string) string { return "metadata: {name: s}\nspec: " + spec }
	runVerdicts(t, []verdictCase{
		{name: "duplicate ports", resource: "services", obj: svc("{ports: [{name: a, port: 80}, {name: b, port: 80}]}"),
			want: []string{`spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}`}},
		{name: "nodePort on ClusterIP", resource: "services", obj: svc("{ports: [{port: 80, nodePort: 30080}]}"),
			want: []string{"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"}},
		{name: "bad clusterIP", resource: "services", obj: svc("{clusterIP: abc, ports: [{port: 80}]}"),
			want: []string{`spec.clusterIPs[0]: Invalid value: "abc": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{name: "headless NodePort", resource: "services", obj: svc("{type: NodePort, clusterIP: None, ports: [{port: 80}]}"),
			want: []string{`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`}},
		{name: "source ranges on ClusterIP", resource: "services", obj: svc("{loadBalancerSourceRanges: [10.0.0.0/8], ports: [{port: 80}]}"),
			want: []string{"spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"}},
		{name: "bad targetPort name", resource: "services", obj: svc("{ports: [{port: 80, targetPort: Bad_Port}]}"),
			want: []string{`spec.ports[0].targetPort: Invalid value: "Bad_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`}},
	})
}
