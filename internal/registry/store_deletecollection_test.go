package registry_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's Store.DeleteCollection: every object of the namespace (all
// namespaces for "") that the list options select is deleted as by
// Delete, and the list of them is answered; the others stay.
func TestDeleteCollection(t *testing.T) {
	f := newFixture(t)
	f.createNamespace(t, "other")
	cms := f.configMaps(t)
	labelled := func(namespace, name, app string, finalizers ...string) {
		t.Helper()
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
			Labels: map[string]string{"app": app}, Finalizers: finalizers}}
		if _, err := cms.Create(t.Context(), namespace, cm, registry.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	labelled(testNS, "web-1", "web")
	labelled(testNS, "web-2", "web")
	labelled(testNS, "held", "web", holdFinalizer)
	labelled(testNS, "db-1", "db")
	labelled("other", "web-3", "web")

	// steps run in order: each sees what the previous left.
	steps := []struct {
		name       string
		namespace  string
		selector   string
		dryRun     bool
		wantListed []string // namespace/name, sorted
		wantStored []string // what is left, sorted
		wantMarked []string // what is left with a deletionTimestamp
	}{
		{name: "dry run", namespace: testNS, selector: "app=web", dryRun: true,
			wantListed: []string{"test/held", "test/web-1", "test/web-2"},
			wantStored: []string{"other/web-3", "test/db-1", "test/held", "test/web-1", "test/web-2"}},
		{name: "one namespace", namespace: testNS, selector: "app=web",
			wantListed: []string{"test/held", "test/web-1", "test/web-2"},
			wantStored: []string{"other/web-3", "test/db-1", "test/held"},
			wantMarked: []string{"test/held"}},
		{name: "no match", namespace: testNS, selector: "app=none",
			wantStored: []string{"other/web-3", "test/db-1", "test/held"},
			wantMarked: []string{"test/held"}},
		{name: "all namespaces", namespace: "", selector: "app in (web)",
			wantListed: []string{"other/web-3", "test/held"},
			wantStored: []string{"test/db-1", "test/held"},
			wantMarked: []string{"test/held"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			sel, err := labels.Parse(st.selector)
			if err != nil {
				t.Fatal(err)
			}
			out, err := cms.DeleteCollection(t.Context(), st.namespace, &metainternalversion.ListOptions{LabelSelector: sel},
				registry.DeleteOptions{DryRun: st.dryRun})
			if err != nil {
				t.Fatal(err)
			}
			if gvk := out.GetObjectKind().GroupVersionKind(); gvk.Kind != "ConfigMapList" || gvk.Version != "v1" {
				t.Errorf("answered a %v", gvk)
			}
			if got := names(t, out); !slices.Equal(got, st.wantListed) {
				t.Errorf("answered %v, want %v", got, st.wantListed)
			}
			all, err := cms.List(t.Context(), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(t, all); !slices.Equal(got, st.wantStored) {
				t.Errorf("stored %v, want %v", got, st.wantStored)
			}
			if got := marked(t, all); !slices.Equal(got, st.wantMarked) {
				t.Errorf("marked %v, want %v", got, st.wantMarked)
			}
		})
	}

	// Upstream's namespace storage is no CollectionDeleter: go-restful has
	// no route and the server answers 405.
	t.Run("namespaces", func(t *testing.T) {
		_, err := f.reg.Namespaces().DeleteCollection(t.Context(), "", nil, registry.DeleteOptions{})
		wantStatus(t, err, 405, metav1.StatusReasonMethodNotAllowed)
		if _, err := f.reg.Namespaces().Get(t.Context(), "", "other", nil); err != nil {
			t.Errorf("namespace other: %v", err)
		}
	})
}

// names returns the namespace/name of the items of a list, sorted.
func names(t *testing.T, list runtime.Object) []string {
	t.Helper()
	return itemNames(t, list, func(metav1.Object) bool { return true })
}

// marked returns the namespace/name of the items of a list that have a
// deletionTimestamp, sorted.
func marked(t *testing.T, list runtime.Object) []string {
	t.Helper()
	return itemNames(t, list, func(m metav1.Object) bool { return m.GetDeletionTimestamp() != nil })
}

func itemNames(t *testing.T, list runtime.Object, keep func(metav1.Object) bool) []string {
	t.Helper()
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if m := metaOf(it); keep(m) {
			out = append(out, m.GetNamespace()+"/"+m.GetName())
		}
	}
	slices.Sort(out)
	return out
}
