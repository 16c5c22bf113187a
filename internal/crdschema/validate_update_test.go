package crdschema

import (
	"strings"
	"testing"
)

type updateCase struct {
	name, old, new string // spec, then more fields of the object
	status         bool   // through the status subresource
	want           []string
}

// updateCases are updates of custom resources of gadgets.yaml and
// upstream's errors for them (also run against a real kube-apiserver by
// oracle_test.go).
var updateCases = []updateCase{{
	name: "transition rule (oldSelf) refuses a change",
	old:  `{"name":"x"}`, new: `{"name":"y"}`,
	want: []string{`spec.name: Forbidden: name is immutable`},
}, {
	name: "transition rule passes when unchanged",
	old:  `{"name":"x"}`, new: `{"name":"x","color":"blue"}`,
}, {
	name: "ratcheting: an invalid value already stored may stay",
	old:  `{"name":"x","email":"nope","tags":["a","a"]}`, new: `{"name":"x","email":"nope","tags":["a","a"],"color":"blue"}`,
}, {
	name: "ratcheting: a new invalid value is refused",
	old:  `{"name":"x","email":"nope"}`, new: `{"name":"x","email":"nope2"}`,
	want: []string{`spec.email: Invalid value: "nope2": spec.email in body must be of type email: "nope2"`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`},
}, {
	name: "status: only status is checked against the schema",
	old:  `{"name":"x"}`, new: `{"name":"x"},"status":{"phase":"Gone"}`, status: true,
	want: []string{`status.phase: Unsupported value: "Gone": supported values: "Pending", "Ready"`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`},
}, {
	name: "status: CEL rules of the whole object run",
	old:  `{"name":"x","replicas":1,"minReplicas":2}`, new: `{"name":"x","replicas":1,"minReplicas":3},"status":{"phase":"Ready"}`, status: true,
	want: []string{`spec: Invalid value: replicas must be at least minReplicas`},
}, {
	// Upstream validates status with a validator rooted at .status, so its
	// messages name the field from there ("replicas in body").
	name: "status: scale status replicas",
	old:  `{"name":"x"}`, new: `{"name":"x"},"status":{"replicas":-2}`, status: true,
	want: []string{`status.replicas: Invalid value: -2: replicas in body should be greater than or equal to 0`,
		`.status.replicas: Invalid value: -2: should be a non-negative integer`},
},
}

func (c updateCase) objects(t testing.TB) (obj, old map[string]any) {
	mk := func(spec string) map[string]any {
		return object(t, `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","namespace":"ns"},"spec":`+spec+`}`)
	}
	return mk(c.new), mk(c.old)
}

func TestValidateUpdate(t *testing.T) {
	s := compile(t, "gadgets.yaml")
	for _, tc := range updateCases {
		t.Run(tc.name, func(t *testing.T) {
			obj, old := tc.objects(t)
			s.Default(obj)
			s.Default(old)
			got := errStrings(t, s, obj, old, tc.status)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	old := object(t, `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","finalizers":["kubernetes","x.io/y"]}}`)
	obj := object(t, `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","finalizers":["kubernetes","x.io/y","plain","a.b"]}}`)
	want := []string{
		`metadata.finalizers: "a.b": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers`,
		`metadata.finalizers: "plain": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers`,
	}
	if got := Warnings(obj, old); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := Warnings(old, nil); len(got) != 0 {
		t.Errorf("standard and qualified finalizers warned: %q", got)
	}
}
