package crdschema

import (
	"slices"
	"testing"
)

type pruneCase struct {
	name, in, want string
	unknown        []string // sorted
}

// pruneCases are objects of gadgets.yaml as a request sends them, and as
// upstream keeps them (also run against a real kube-apiserver by
// oracle_test.go).
var pruneCases = []pruneCase{{
	name:    "unknown fields pruned and reported",
	in:      `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","bogus":1},"spec":{"name":"x","foo":1,"labels":{"a":"b"}},"top":true}`,
	want:    `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"},"spec":{"color":"red","labels":{"a":"b"},"minReplicas":0,"name":"x","replicas":1}}`,
	unknown: []string{"metadata.bogus", "spec.foo", "top"},
}, {
	name:    "preserve-unknown-fields and embedded resources keep their fields, embedded metadata is coerced",
	in:      `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"},"spec":{"name":"x","extra":{"any":{"thing":1}},"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","junk":1},"spec":{"x":1}}}}`,
	want:    `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"},"spec":{"color":"red","extra":{"any":{"thing":1}},"minReplicas":0,"name":"x","replicas":1,"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":1}}}}`,
	unknown: []string{"spec.template.metadata.junk"},
}, {
	name: "null of a non-nullable field without default dropped, nullable kept, defaulted null set",
	in:   `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"},"spec":{"name":"x","email":null,"note":null,"color":null}}`,
	want: `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"},"spec":{"color":"red","minReplicas":0,"name":"x","note":null,"replicas":1}}`,
}, {
	name: "another kind is left alone",
	in:   `{"apiVersion":"example.com/v1","kind":"Other","spec":{"foo":1}}`,
	want: `{"apiVersion":"example.com/v1","kind":"Other","spec":{"foo":1}}`,
},
}

func TestPruneAndDefault(t *testing.T) {
	s := compile(t, "gadgets.yaml")
	for _, tc := range pruneCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := object(t, tc.in)
			unknown, err := s.Prune(obj)
			if err != nil {
				t.Fatal(err)
			}
			s.Default(obj)
			slices.Sort(unknown)
			if !slices.Equal(unknown, tc.unknown) {
				t.Errorf("unknown fields %q, want %q", unknown, tc.unknown)
			}
			if got := toJSON(t, obj); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPruneStored(t *testing.T) {
	s := compile(t, "widgets.yaml")
	obj := object(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a","labels":"bad"},"spec":{"old":1}}`)
	if err := s.PruneStored(obj); err != nil {
		t.Fatal(err)
	}
	s.Default(obj)
	want := `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"generation":1,"name":"a"},"spec":{"size":3}}`
	if got := toJSON(t, obj); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// The same malformed metadata from a request is refused.
	obj = object(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a","labels":"bad"}}`)
	if _, err := s.Prune(obj); err == nil {
		t.Error("malformed metadata accepted from a request")
	}
}
