package builtin_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/registry"
)

// Services as kube-apiserver creates them: SetDefaults_Service, the IP
// family fields of the allocator's initIPFamilyFields, and node ports as
// its initNodePorts and allocHealthCheckNodePort reserve them.
func TestServiceCreate(t *testing.T) {
	reg := newRegistry(t)
	svcs, _ := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "services"})
	tests := []struct {
		name, spec string
		check      func(t *testing.T, s *corev1.ServiceSpec)
		wantErr    string
	}{
		{name: "cluster IP with external IPs", spec: "{externalIPs: [1.2.3.4], ports: [{port: 80}]}",
			check: func(t *testing.T, s *corev1.ServiceSpec) {
				if s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
					t.Errorf("externalTrafficPolicy %q, want Cluster", s.ExternalTrafficPolicy)
				}
			}},
		{name: "cluster IP with external IPs and Local", spec: "{externalIPs: [1.2.3.4], externalTrafficPolicy: Local, ports: [{port: 80}]}"},
		{name: "cluster IP with a policy", spec: "{externalTrafficPolicy: Cluster, ports: [{port: 80}]}",
			wantErr: `spec.externalTrafficPolicy: Invalid value: "Cluster": may only be set for externally-accessible services`},
		{name: "headless without selector", spec: "{clusterIP: None, ports: [{port: 80}]}",
			check: func(t *testing.T, s *corev1.ServiceSpec) {
				if *s.IPFamilyPolicy != corev1.IPFamilyPolicyRequireDualStack || len(s.IPFamilies) != 2 || s.ExternalTrafficPolicy != "" {
					t.Errorf("policy %s, families %v, externalTrafficPolicy %q", *s.IPFamilyPolicy, s.IPFamilies, s.ExternalTrafficPolicy)
				}
			}},
		{name: "dual stack required", spec: "{ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}",
			wantErr: `spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services`},
		{name: "IPv6", spec: "{ipFamilies: [IPv6], ports: [{port: 80}]}",
			wantErr: `spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`},
		{name: "load balancer without node ports", spec: "{type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{name: a, port: 80}, {name: b, port: 81, nodePort: 31801}]}",
			check: func(t *testing.T, s *corev1.ServiceSpec) {
				if s.Ports[0].NodePort != 0 || s.Ports[1].NodePort != 31801 {
					t.Errorf("node ports %d and %d, want 0 and 31801", s.Ports[0].NodePort, s.Ports[1].NodePort)
				}
			}},
		{name: "one node port per port number", spec: "{type: NodePort, ports: [{name: a, port: 53, nodePort: 31802}, {name: b, port: 53, protocol: UDP}]}",
			check: func(t *testing.T, s *corev1.ServiceSpec) {
				if s.Ports[1].NodePort != 31802 {
					t.Errorf("the UDP port got node port %d, want 31802", s.Ports[1].NodePort)
				}
			}},
		{name: "local load balancer", spec: "{type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]}",
			check: func(t *testing.T, s *corev1.ServiceSpec) {
				if s.HealthCheckNodePort < 30000 || s.HealthCheckNodePort == s.Ports[0].NodePort {
					t.Errorf("health check node port %d, node port %d", s.HealthCheckNodePort, s.Ports[0].NodePort)
				}
			}},
		{name: "health check port taken", spec: "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 31802, ports: [{port: 80}]}",
			wantErr: "failed to allocate requested HealthCheck NodePort 31802: provided port is already allocated"},
		{name: "health check port of a node port service", spec: "{type: NodePort, healthCheckNodePort: 31803, ports: [{port: 80}]}",
			wantErr: "spec.healthCheckNodePort: Invalid value: 31803: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &corev1.Service{}
			name := "s" + string(rune('a'+i))
			if err := yaml.UnmarshalStrict([]byte("metadata: {name: "+name+"}\nspec: "+tt.spec), svc); err != nil {
				t.Fatal(err)
			}
			svcs.Resource().Default(svc)
			out, err := svcs.Create(t.Context(), "default", svc, registry.CreateOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, &out.(*corev1.Service).Spec)
			}
		})
	}
}
