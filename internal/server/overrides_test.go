package server

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestParseEtcdServersOverrides(t *testing.T) {
	got, err := ParseEtcdServersOverrides([]string{"/events#http://a:2379;http://b:2379", "coordination.k8s.io/leases#https://c:2379"})
	if err != nil {
		t.Fatal(err)
	}
	want := []EtcdOverride{
		{GroupResource: schema.GroupResource{Resource: "events"}, Servers: []string{"http://a:2379", "http://b:2379"}},
		{GroupResource: schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, Servers: []string{"https://c:2379"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"events#http://a", "/events", "/events#", "/events#http://a;", "a/b/c#http://a", "/e#a#b"} {
		if _, err := ParseEtcdServersOverrides([]string{bad}); err != errOverridesInvalid {
			t.Errorf("%q: %v, want upstream's error", bad, err)
		}
	}
}
