package registry

import (
	"slices"
	"testing"
)

// Serves agrees with Verbs for every kind of resource.
func TestServesIsVerbs(t *testing.T) {
	for _, r := range []*Resource{{}, {NoDeleteCollection: true}, {Custom: true}, {Custom: true, NoDeleteCollection: true}} {
		for _, v := range []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", "proxy", ""} {
			if got, want := r.Serves(v), slices.Contains(r.Verbs(), v); got != want {
				t.Errorf("custom %v, no deletecollection %v: Serves(%q) = %v, Verbs has it: %v", r.Custom, r.NoDeleteCollection, v, got, want)
			}
		}
	}
}
