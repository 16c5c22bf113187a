package builtin_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// Only namespaces lack deletecollection among the built-in rows.
func TestVerbsOfBuiltinRows(t *testing.T) {
	all := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	for _, r := range builtin.Resources() {
		want := all
		if r.GroupResource() == (schema.GroupResource{Resource: "namespaces"}) {
			want = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
		}
		if got := r.Verbs(); !slices.Equal(got, want) {
			t.Errorf("%s verbs %v, want %v", r.GroupResource(), got, want)
		}
		if r.Serves("deletecollection") != slices.Contains(want, "deletecollection") {
			t.Errorf("%s Serves(deletecollection) disagrees with Verbs", r.GroupResource())
		}
	}
}

func TestNamespacesRefuseDeleteCollection(t *testing.T) {
	reg := newRegistry(t)
	_, err := reg.Namespaces().DeleteCollection(t.Context(), "", nil, registry.DeleteOptions{})
	if !apierrors.IsMethodNotSupported(err) {
		t.Fatalf("namespaces DeleteCollection: %v, want 405", err)
	}
	if s := err.(apierrors.APIStatus).Status(); s.Code != http.StatusMethodNotAllowed || s.Message != "the server does not allow this method on the requested resource" {
		t.Fatalf("status %+v", s)
	}
	for _, name := range builtin.SystemNamespaces {
		if _, err := reg.Namespaces().Get(t.Context(), "", name, nil); err != nil {
			t.Fatalf("namespace %s: %v", name, err)
		}
	}
}

func TestImmortalNamespacesRefuseDelete(t *testing.T) {
	reg := newRegistry(t)
	nss := reg.Namespaces()
	for _, name := range []string{"default", "kube-system", "kube-public", "not-even-there"} {
		immortal := slices.Contains(builtin.ImmortalNamespaces, name)
		for _, dry := range []bool{true, false} {
			_, _, err := nss.Delete(t.Context(), "", name, registry.DeleteOptions{DryRun: dry})
			if !immortal {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("delete %s: %v", name, err)
				}
				continue
			}
			want := `namespaces "` + name + `" is forbidden: this namespace may not be deleted`
			if !apierrors.IsForbidden(err) || err.Error() != want {
				t.Fatalf("delete %s (dry run %v): %v, want %q", name, dry, err, want)
			}
		}
	}
	obj, deleted, err := nss.Delete(t.Context(), "", corev1.NamespaceNodeLease, registry.DeleteOptions{})
	if err != nil || deleted || obj.(*corev1.Namespace).Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("delete kube-node-lease: %v %v %+v", err, deleted, obj)
	}
}

// update reads an object, changes it and writes it back.
func update(t *testing.T, s *registry.Store, namespace, name string, change func(runtime.Object)) error {
	t.Helper()
	_, _, err := s.Update(t.Context(), namespace, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		obj := existing.DeepCopyObject()
		change(obj)
		return obj, nil
	}, registry.UpdateOptions{})
	return err
}

func TestConfigMapAndSecretUpdateValidation(t *testing.T) {
	reg := newRegistry(t)
	cms := storeFor(t, reg, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"})
	secrets := storeFor(t, reg, schema.GroupVersionResource{Version: "v1", Resource: "secrets"})
	yes := true
	if _, err := cms.Create(t.Context(), "default", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"},
		Immutable: &yes, Data: map[string]string{"a": "1"}}, registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Create(t.Context(), "default", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}},
		registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what   string
		store  *registry.Store
		name   string
		change func(runtime.Object)
		want   string
	}{
		{"config map data", cms, "c", func(o runtime.Object) { o.(*corev1.ConfigMap).Data = nil },
			"ConfigMap \"c\" is invalid: data: Forbidden: field is immutable when `immutable` is set"},
		{"config map immutable", cms, "c", func(o runtime.Object) { o.(*corev1.ConfigMap).Immutable = nil },
			"ConfigMap \"c\" is invalid: immutable: Forbidden: field is immutable when `immutable` is set"},
		{"config map labels", cms, "c", func(o runtime.Object) { o.(*corev1.ConfigMap).Labels = map[string]string{"a": "b"} }, ""},
		{"secret type", secrets, "s", func(o runtime.Object) { o.(*corev1.Secret).Type = corev1.SecretTypeSSHAuth },
			`Secret "s" is invalid: [type: Invalid value: "kubernetes.io/ssh-auth": field is immutable, data[ssh-privatekey]: Required value]`},
		{"secret data", secrets, "s", func(o runtime.Object) { o.(*corev1.Secret).Data = map[string][]byte{"k": nil} }, ""},
	} {
		err := update(t, c.store, "default", c.name, c.change)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.what, err)
		case c.want != "" && (!apierrors.IsInvalid(err) || err.Error() != c.want):
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
}
