package builtin

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

func core(resource string) schema.GroupResource { return schema.GroupResource{Resource: resource} }

func gr(group, resource string) schema.GroupResource {
	return schema.GroupResource{Group: group, Resource: resource}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		key  string
		want KeyInfo
	}{
		{key: "/registry/pods/fx/pod1", want: KeyInfo{Resource: core("pods"), Namespace: "fx", Name: "pod1"}},
		{key: "/registry/minions/node-1", want: KeyInfo{Resource: core("nodes"), Name: "node-1"}},
		{key: "/registry/nodes/node-1", want: KeyInfo{Resource: core("nodes"), Name: "node-1"}},
		{key: "/registry/services/specs/default/kubernetes", want: KeyInfo{Resource: core("services"), Namespace: "default", Name: "kubernetes"}},
		{key: "/registry/services/endpoints/default/kubernetes", want: KeyInfo{Resource: core("endpoints"), Namespace: "default", Name: "kubernetes"}},
		{key: "/registry/controllers/fx/rc1", want: KeyInfo{Resource: core("replicationcontrollers"), Namespace: "fx", Name: "rc1"}},
		{key: "/registry/ingress/fx/ing1", want: KeyInfo{Resource: gr("networking.k8s.io", "ingresses"), Namespace: "fx", Name: "ing1"}},
		{key: "/registry/events/fx/e.1", want: KeyInfo{Resource: core("events"), Namespace: "fx", Name: "e.1"}},
		{key: "/registry/deployments/fx/d", want: KeyInfo{Resource: gr("apps", "deployments"), Namespace: "fx", Name: "d"}},
		{key: "/registry/namespaces/fx", want: KeyInfo{Resource: core("namespaces"), Name: "fx"}},
		{key: "/registry/ipaddresses/10.0.0.1", want: KeyInfo{Resource: gr("networking.k8s.io", "ipaddresses"), Name: "10.0.0.1"}},
		{key: "/registry/leasecandidates/kube-system/c", want: KeyInfo{Resource: gr("coordination.k8s.io", "leasecandidates"), Namespace: "kube-system", Name: "c"}},
		{key: "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com", want: KeyInfo{Resource: gr("apiextensions.k8s.io", "customresourcedefinitions"), Name: "widgets.example.com"}},
		{key: "/registry/apiregistration.k8s.io/apiservices/v1.apps", want: KeyInfo{Resource: gr("apiregistration.k8s.io", "apiservices"), Name: "v1.apps"}},
		{key: "/registry/example.com/widgets/fx/w1", want: KeyInfo{Resource: gr("example.com", "widgets"), Namespace: "fx", Name: "w1"}},
		{key: "/registry/example.com/clusterwidgets/w1", want: KeyInfo{Resource: gr("example.com", "clusterwidgets"), Name: "w1"}},
		{key: "/registry/ranges/servicenodeports", want: KeyInfo{Resource: core("servicenodeportallocations"), Name: "servicenodeports"}},
		{key: "/registry/ranges/serviceips", want: KeyInfo{Resource: core("serviceipallocations"), Name: "serviceips"}},
		{key: "/registry/masterleases/10.0.0.2", want: KeyInfo{Resource: core("apiServerIPInfo"), Name: "10.0.0.2"}},
		{key: "/registry/peerserverleases/apiserver-x", want: KeyInfo{Resource: core("apiServerPeerIPInfo"), Name: "apiserver-x"}},
	}
	for _, tt := range tests {
		got, err := ParseKey("/registry", tt.key)
		if err != nil || got != tt.want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", tt.key, got, err, tt.want)
		}
	}
}

func TestParseKeyOtherEtcdPrefix(t *testing.T) {
	for _, prefix := range []string{"/custom", "custom/", "/custom/"} {
		got, err := ParseKey(prefix, "/custom/minions/n")
		if want := (KeyInfo{Resource: core("nodes"), Name: "n"}); err != nil || got != want {
			t.Errorf("ParseKey(%q, /custom/minions/n) = %+v, %v; want %+v", prefix, got, err, want)
		}
	}
	if got, err := ParseKey("", "/pods/ns/a"); err != nil || got.Name != "a" {
		t.Errorf(`ParseKey("", /pods/ns/a) = %+v, %v`, got, err)
	}
}

func TestParseKeyErrors(t *testing.T) {
	tests := []struct {
		key     string
		wantErr string
	}{
		{key: "compact_rev_key", wantErr: `"compact_rev_key" is not under the etcd prefix "/registry/"`},
		{key: "/registryx/pods/a/b", wantErr: "is not under the etcd prefix"},
		{key: "/registry/health", wantErr: `"/registry/health" has no known resource prefix`},
		{key: "/registry/", wantErr: "empty, '.' or '..' segment"},
		{key: "/registry/pods//a", wantErr: "empty, '.' or '..' segment"},
		{key: "/registry/pods/ns/a/", wantErr: "empty, '.' or '..' segment"},
		{key: "/registry/pods/../secrets/a", wantErr: "empty, '.' or '..' segment"},
		{key: "/registry/pods/a", wantErr: `pods is namespaced, want /registry/pods/<namespace>/<name>`},
		{key: "/registry/pods/ns/a/b", wantErr: "pods is namespaced"},
		{key: "/registry/minions/ns/a", wantErr: `nodes is cluster-scoped, want /registry/minions/<name>`},
		{key: "/registry/nodes/ns/a", wantErr: `nodes is cluster-scoped, want /registry/nodes/<name>`},
		{key: "/registry/services/specs/x", wantErr: "services is namespaced"},
		{key: "/registry/services/x", wantErr: "no known resource prefix"},
		{key: "/registry/ranges/other", wantErr: "no known resource prefix"},
		{key: "/registry/widgets/fx/w1", wantErr: "no known resource prefix"},
		{key: "/registry/example.com/widgets", wantErr: "no known resource prefix"},
		{key: "/registry/example.com/widgets/a/b/c", wantErr: "no known resource prefix"},
	}
	for _, tt := range tests {
		got, err := ParseKey("/registry", tt.key)
		if err == nil {
			t.Errorf("ParseKey(%q) = %+v, want an error", tt.key, got)
			continue
		}
		if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseKey(%q) error %q, want ErrUnknownKey containing %q", tt.key, err, tt.wantErr)
		}
	}
}

// TestParseKeyFixture parses every key a real kube-apiserver wrote
// (shared/fixtures/kube-apiserver-v1.37.2/all-keys.txt).
func TestParseKeyFixture(t *testing.T) {
	f, err := os.Open("testdata/all-keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[schema.GroupResource]bool{}
	for _, r := range storedResources {
		known[r.resource] = true
	}
	for _, gr := range rangeKeys {
		known[gr] = true
	}
	for _, prefix := range []string{"masterleases", "peerserverleases"} {
		known[byPrefix[prefix].resource] = true
	}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		key := sc.Text()
		info, err := ParseKey("/registry", key)
		if err != nil {
			t.Errorf("ParseKey(%q): %v", key, err)
			continue
		}
		if !known[info.Resource] {
			t.Errorf("ParseKey(%q) = %+v, an unknown resource", key, info)
		}
		if !strings.HasSuffix(key, "/"+info.Name) || (info.Namespace != "" && !strings.HasSuffix(key, "/"+info.Namespace+"/"+info.Name)) {
			t.Errorf("ParseKey(%q) = %+v, which is not the end of the key", key, info)
		}
	}
	if n < 70 {
		t.Errorf("read %d keys, want the whole file", n)
	}
}

// TestKeysParseBack builds the key of an object of every stored resource and
// parses it back.
func TestKeysParseBack(t *testing.T) {
	for _, r := range storedResources {
		prefix := registry.ResourcePrefix(r.resource)
		var key string
		var err error
		want := KeyInfo{Resource: r.resource, Name: "obj-1.a"}
		if r.namespaced {
			want.Namespace = "ns-1"
			key, err = registry.NamespaceKey(prefix, want.Namespace, want.Name)
		} else {
			key, err = registry.ClusterKey(prefix, want.Name)
		}
		if err != nil {
			t.Fatal(err)
		}
		etcdKey := registry.EtcdPathPrefix("/registry") + key[1:]
		if got, err := ParseKey("/registry", etcdKey); err != nil || got != want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", etcdKey, got, err, want)
		}
	}
}

func TestStoredResourcesHaveDistinctPrefixes(t *testing.T) {
	seen := map[string]schema.GroupResource{}
	for _, r := range storedResources {
		p := registry.ResourcePrefix(r.resource)
		if other, ok := seen[p]; ok {
			t.Errorf("%v and %v share the prefix %q", r.resource, other, p)
		}
		seen[p] = r.resource
	}
}

// FuzzParseKey: ParseKey never panics, and what it returns is the key's end.
func FuzzParseKey(f *testing.F) {
	for _, k := range []string{
		"/registry/pods/fx/pod1", "/registry/minions/n", "/registry/services/specs/a/b",
		"/registry/example.com/widgets/fx/w1", "/registry/ranges/serviceips", "/registry//", "/registry/a.b/c",
	} {
		f.Add("/registry", k)
	}
	f.Fuzz(func(t *testing.T, prefix, key string) {
		info, err := ParseKey(prefix, key)
		if err != nil {
			return
		}
		if info.Name == "" || info.Resource.Resource == "" {
			t.Fatalf("ParseKey(%q, %q) = %+v, with empty parts", prefix, key, info)
		}
		end := "/" + info.Name
		if info.Namespace != "" {
			end = "/" + info.Namespace + end
		}
		if !strings.HasSuffix(key, end) || !strings.HasPrefix(key, registry.EtcdPathPrefix(prefix)) {
			t.Fatalf("ParseKey(%q, %q) = %+v, not the key's end", prefix, key, info)
		}
	})
}
