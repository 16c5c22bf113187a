package builtin_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// verdictCase is one object (and, for an update, the stored one) with
// the causes kube-apiserver v1.37.2 answers, as "field: message" strings
// in any order; none means the object is accepted.
type verdictCase struct {
	name     string
	resource string // group/resource, "" group for core: "pods", "apps/deployments"
	old      string // YAML of the stored object, for an update
	obj      string // YAML of the object sent
	want     []string
}

// runVerdicts runs the row hooks the store runs (defaulting, preparation,
// validation) on each case, without storage, and compares the causes.
func runVerdicts(t *testing.T, cases []verdictCase) {
	t.Helper()
	rows := map[string]*registry.Resource{}
	for _, r := range builtin.Resources() {
		key := r.Resource
		if r.Group != "" {
			key = r.Group + "/" + r.Resource
		}
		if _, ok := rows[key]; !ok {
			rows[key] = r
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rows[c.resource]
			if r == nil {
				t.Fatalf("no row %q", c.resource)
			}
			obj := decodeInto(t, r, c.obj)
			var got []string
			if c.old == "" {
				got = runCreate(r, obj)
			} else {
				old := decodeInto(t, r, c.old)
				runCreate(r, old)
				got = runUpdate(r, obj, old)
			}
			want := slices.Clone(c.want)
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("causes (-upstream +regis):\n%s", diff)
			}
		})
	}
}

func decodeInto(t *testing.T, r *registry.Resource, y string) runtime.Object {
	t.Helper()
	obj := r.New()
	if err := yaml.UnmarshalStrict([]byte(y), obj); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return obj
}

func runCreate(r *registry.Resource, obj runtime.Object) []string {
	if r.Default != nil {
		r.Default(obj)
	}
	r.PrepareCreate(obj)
	var got []string
	if r.Validate != nil {
		got = messages(r.Validate(obj))
	}
	if r.ValidateCreate != nil {
		got = append(got, messages(r.ValidateCreate(obj))...)
	}
	return got
}

func runUpdate(r *registry.Resource, obj, old runtime.Object) []string {
	if r.Default != nil {
		r.Default(obj)
	}
	if r.PrepareForUpdate != nil {
		r.PrepareForUpdate(obj, old)
	}
	var got []string
	if r.Validate != nil {
		got = append(got, messages(r.Validate(obj))...)
	}
	if r.ValidateUpdate != nil {
		got = append(got, messages(r.ValidateUpdate(obj, old))...)
	}
	return got
}

func messages[E interface{ Error() string }](errs []E) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}
