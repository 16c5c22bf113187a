package registry

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
)

func TestResourcePrefix(t *testing.T) {
	tests := []struct {
		gr   schema.GroupResource
		want string
	}{
		{gr: schema.GroupResource{Resource: "pods"}, want: "pods"},
		{gr: schema.GroupResource{Resource: "services"}, want: "services/specs"},
		{gr: schema.GroupResource{Resource: "endpoints"}, want: "services/endpoints"},
		{gr: schema.GroupResource{Resource: "nodes"}, want: "minions"},
		{gr: schema.GroupResource{Resource: "replicationcontrollers"}, want: "controllers"},
		{gr: schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, want: "ingress"},
		{gr: schema.GroupResource{Group: "extensions", Resource: "ingresses"}, want: "ingress"},
		{gr: schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, want: "events"},
		{gr: schema.GroupResource{Resource: "events"}, want: "events"},
		{gr: schema.GroupResource{Group: "apps", Resource: "deployments"}, want: "deployments"},
		{gr: schema.GroupResource{Group: "extensions", Resource: "deployments"}, want: "deployments"},
		{gr: schema.GroupResource{Group: "extensions", Resource: "replicationcontrollers"}, want: "replicationcontrollers"},
		{gr: schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}, want: "horizontalpodautoscalers"},
		{gr: schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "ClusterRoles"}, want: "clusterroles"},
		{gr: schema.GroupResource{Group: "internal.apiserver.k8s.io", Resource: "storageversions"}, want: "storageversions"},
		{gr: schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}, want: "apiextensions.k8s.io/customresourcedefinitions"},
		{gr: schema.GroupResource{Group: "apiregistration.k8s.io", Resource: "apiservices"}, want: "apiregistration.k8s.io/apiservices"},
		{gr: schema.GroupResource{Group: "example.com", Resource: "widgets"}, want: "example.com/widgets"},
	}
	for _, tt := range tests {
		if got := ResourcePrefix(tt.gr); got != tt.want {
			t.Errorf("ResourcePrefix(%v) = %q, want %q", tt.gr, got, tt.want)
		}
	}
}

// TestBuiltinGroupsAreTheSchemeGroups: every group of k8s.io/api is built-in
// but the review and discovery groups kube-apiserver stores nothing of;
// the scheme's apiregistration.k8s.io (the aggregator's) and
// apiextensions.k8s.io (the apiextensions server's) are not either.
func TestBuiltinGroupsAreTheSchemeGroups(t *testing.T) {
	notServed := map[string]bool{"admission.k8s.io": true, "imagepolicy.k8s.io": true, "apidiscovery.k8s.io": true,
		"apiregistration.k8s.io": true, "apiextensions.k8s.io": true}
	groups := map[string]bool{}
	for gvk := range codec.Scheme().AllKnownTypes() {
		if gvk.Group != "meta.k8s.io" {
			groups[gvk.Group] = true
		}
	}
	for g := range groups {
		if got := IsBuiltinGroup(g); got == notServed[g] {
			t.Errorf("IsBuiltinGroup(%q) = %v", g, got)
		}
	}
	for g := range builtinGroups {
		if !groups[g] {
			t.Errorf("built-in group %q is not in k8s.io/api", g)
		}
	}
	for _, g := range []string{"apiextensions.k8s.io", "apiregistration.k8s.io", "example.com"} {
		if IsBuiltinGroup(g) {
			t.Errorf("IsBuiltinGroup(%q) = true", g)
		}
	}
}

func TestEtcdPathPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"/registry":  "/registry/",
		"/registry/": "/registry/",
		"registry":   "/registry/",
		"":           "/",
		"/":          "/",
		"/a//b/../c": "/a/c/",
	} {
		if got := EtcdPathPrefix(in); got != want {
			t.Errorf("EtcdPathPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeys(t *testing.T) {
	mustKey := func(key string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	tests := []struct {
		name, got, want string
	}{
		{name: "namespaced", got: mustKey(NamespaceKey("pods", "default", "web")), want: "/pods/default/web"},
		{name: "special prefix", got: mustKey(NamespaceKey("services/specs", "default", "kubernetes")), want: "/services/specs/default/kubernetes"},
		{name: "cluster", got: mustKey(ClusterKey("minions", "node-1")), want: "/minions/node-1"},
		{name: "ip address name", got: mustKey(ClusterKey("ipaddresses", "2001:db8::1")), want: "/ipaddresses/2001:db8::1"},
		{name: "dots inside a name", got: mustKey(ClusterKey("apiextensions.k8s.io/customresourcedefinitions", "widgets.example.com")), want: "/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com"},
		{name: "slashes around the prefix", got: mustKey(NamespaceKey("/pods/", "default", "web")), want: "/pods/default/web"},
		{name: "root", got: RootKey("pods"), want: "/pods"},
		{name: "namespace root", got: mustKey(NamespaceRootKey("pods", "default")), want: "/pods/default"},
		{name: "all-namespaces root", got: mustKey(NamespaceRootKey("pods", "")), want: "/pods"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestKeysRefuseEscapes checks upstream's messages (NamespaceKeyFunc in
// k8s.io/apiserver/pkg/registry/generic/registry, IsPathSegmentName in
// apimachinery) and that they are 400s.
func TestKeysRefuseEscapes(t *testing.T) {
	tests := []struct {
		name      string
		namespace string // "-" for ClusterKey
		objName   string
		want      string
	}{
		{name: "no namespace", namespace: "", objName: "a", want: "Namespace parameter required."},
		{name: "no namespace nor name", namespace: "", objName: "", want: "Namespace parameter required."},
		{name: "no name", namespace: "default", objName: "", want: "Name parameter required."},
		{name: "dot", namespace: "default", objName: ".", want: `Name parameter invalid: ".": may not be '.'`},
		{name: "dot dot", namespace: "default", objName: "..", want: `Name parameter invalid: "..": may not be '..'`},
		{name: "slash", namespace: "default", objName: "a/b", want: `Name parameter invalid: "a/b": may not contain '/'`},
		{name: "percent", namespace: "default", objName: "a%2F", want: `Name parameter invalid: "a%2F": may not contain '%'`},
		{name: "slash and percent", namespace: "default", objName: "../%", want: `Name parameter invalid: "../%": may not contain '/';may not contain '%'`},
		{name: "bad namespace", namespace: "..", objName: "a", want: `Namespace parameter invalid: "..": may not be '..'`},
		{name: "cluster no name", namespace: "-", objName: "", want: "Name parameter required."},
		{name: "cluster dot dot", namespace: "-", objName: "..", want: `Name parameter invalid: "..": may not be '..'`},
		{name: "cluster slash", namespace: "-", objName: "../secrets/x", want: `Name parameter invalid: "../secrets/x": may not contain '/'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var key string
			var err error
			if tt.namespace == "-" {
				key, err = ClusterKey("namespaces", tt.objName)
			} else {
				key, err = NamespaceKey("pods", tt.namespace, tt.objName)
			}
			if err == nil {
				t.Fatalf("got key %q, want error %q", key, tt.want)
			}
			if !apierrors.IsBadRequest(err) {
				t.Errorf("error %v is not a BadRequest", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
	if _, err := NamespaceRootKey("pods", "a/b"); !apierrors.IsBadRequest(err) {
		t.Errorf("NamespaceRootKey with namespace a/b: err = %v, want a BadRequest", err)
	}
}
