package registry_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestMemoGoesWithTheRow checks that what is kept in a row's memo (its
// field managers) is built once, and that a replaced row starts with an
// empty memo: nothing of the old row is kept for it.
func TestMemoGoesWithTheRow(t *testing.T) {
	f := newFixture(t)
	st := f.configMaps(t)
	builds := 0
	build := func() (any, error) { builds++; return builds, nil }
	for range 3 {
		if v, err := st.Memo("k", build); err != nil || v != 1 {
			t.Fatalf("memo: %v %v, want 1", v, err)
		}
	}
	row := *st.Resource()
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	replaced, err := f.reg.Replace(&row, nil)
	if err != nil {
		t.Fatal(err)
	}
	if now, _ := f.reg.Lookup(gvr); now != replaced || now == st {
		t.Fatalf("lookup after Replace: %p, want the new store %p", now, replaced)
	}
	if v, err := replaced.Memo("k", build); err != nil || v != 2 {
		t.Errorf("the replaced row's memo: %v %v, want a new value 2", v, err)
	}
}
