package apiserver

import "testing"

// reviewOf skips the list of review resources for the other groups: every
// review resource's group must be one it looks in.
func TestReviewOfFindsEveryReviewResource(t *testing.T) {
	for _, rr := range reviewResources() {
		info := requestInfo{resourceRequest: true, group: rr.gv.Group, version: rr.gv.Version, resource: rr.resource.Name}
		if got, ok := reviewOf(info); !ok || got.resource.Name != rr.resource.Name {
			t.Errorf("reviewOf(%s %s) = %v, %v", rr.gv, rr.resource.Name, got.resource.Name, ok)
		}
	}
	if _, ok := reviewOf(requestInfo{resourceRequest: true, version: "v1", resource: "pods"}); ok {
		t.Error("pods are a review resource")
	}
}
