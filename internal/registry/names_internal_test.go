package registry

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nameCases are good and bad names for every check: lengths at and past
// each limit, every class of character at every position.
func nameCases() []string {
	cases := []string{
		"", "a", "A", "0", "-", ".", "_", "/", "a-", "-a", "a.", ".a", "a..b", "a.-b", "a-.b",
		"my-name", "123-abc", "my.name", "MyName", "my_name", "my--name", "http", "h2c", "9000", "a-1",
		"example.com/MyName", "example.com/", "/name", "Example.com/name", "a/b/c", "a//b", "a/-b",
		"kubernetes.io/hostname", "app.kubernetes.io/name", "pod-template-hash", "foo bar", "foo\n",
		"\nfoo", "naïve", "\u212a", "KELVIN\u212a/x", "a\x00b", "é", "a_b.c-d", "_a", "a_",
		"foregroundDeletion", "orphan", "kubernetes", "x--", "--x", "abcdefghijklmno", "abcdefghijklmnop",
		"nginx-7d9f8b-", "nginx-7d9f8b-x1z2q", "a-b-", "ab-", "a.b-",
	}
	for _, n := range []int{15, 16, 62, 63, 64, 252, 253, 254} {
		cases = append(cases, strings.Repeat("a", n), strings.Repeat("a", n-1)+"-",
			strings.Repeat("a.", n/2)+"a", "p/"+strings.Repeat("b", n), strings.Repeat("c", n)+"/n")
	}
	return cases
}

// randomNames are random strings over an alphabet of the characters that
// matter to the checks.
func randomNames(n int) []string {
	const alphabet = "az09AZ-._/ \u212aé"
	r := rand.New(rand.NewPCG(1, 2))
	runes := []rune(alphabet)
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		out[i] = b.String()
	}
	return out
}

func TestNameChecksAsUpstream(t *testing.T) {
	checks := []struct {
		name           string
		ours, upstream func(string) []string
	}{
		{"IsDNS1123Label", IsDNS1123Label, validation.IsDNS1123Label},
		{"IsDNS1123Subdomain", IsDNS1123Subdomain, validation.IsDNS1123Subdomain},
		{"IsQualifiedName", IsQualifiedName, validation.IsQualifiedName},
		{"IsValidLabelValue", IsValidLabelValue, validation.IsValidLabelValue},
		{"IsValidPortName", IsValidPortName, validation.IsValidPortName},
		{"annotation key", func(v string) []string {
			if qualifiedName(v, true) {
				return nil
			}
			return []string{"invalid"}
		}, func(v string) []string { return validation.IsQualifiedName(strings.ToLower(v)) }},
	}
	names := append(nameCases(), randomNames(20000)...)
	for _, c := range checks {
		valid := 0
		for _, v := range names {
			got, want := c.ours(v), c.upstream(v)
			if c.name == "annotation key" {
				// Not ASCII: upstream lowercases first (the Kelvin sign becomes
				// 'k'), and the fast check leaves the case to upstream.
				if len(got) == 0 && len(want) != 0 || len(got) != 0 && len(want) == 0 && ascii(v) {
					t.Errorf("%s(%q): valid %v, upstream %v", c.name, v, len(got) == 0, want)
				}
			} else if !reflect.DeepEqual(got, want) {
				t.Errorf("%s(%q) = %q, upstream %q", c.name, v, got, want)
			}
			if len(want) == 0 {
				valid++
			}
		}
		if valid < 10 {
			t.Errorf("%s: only %d valid names tried", c.name, valid)
		}
	}
}

// TestMetaValidAsUpstream checks that metaValid is true exactly when
// upstream's ValidateObjectMetaAccessor finds nothing.
func TestMetaValidAsUpstream(t *testing.T) {
	yes := true
	base := func() *metav1.ObjectMeta {
		return &metav1.ObjectMeta{
			Name: "web-7d9f8b-x1z2q", GenerateName: "web-7d9f8b-", Namespace: "default", Generation: 1,
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d9f8b", "app.kubernetes.io/name": ""},
			Annotations: map[string]string{"Example.com/Note": "anything at all", "kubectl.kubernetes.io/restartedAt": "x y"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8b",
				UID: types.UID("u"), Controller: &yes}},
			Finalizers:    []string{"example.com/f", metav1.FinalizerOrphanDependents},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1"}},
		}
	}
	change := []func(m *metav1.ObjectMeta, v string){
		func(m *metav1.ObjectMeta, v string) { m.Name = v },
		func(m *metav1.ObjectMeta, v string) { m.GenerateName = v },
		func(m *metav1.ObjectMeta, v string) { m.Namespace = v },
		func(m *metav1.ObjectMeta, v string) { m.Labels[v] = "x" },
		func(m *metav1.ObjectMeta, v string) { m.Labels["k"] = v },
		func(m *metav1.ObjectMeta, v string) { m.Annotations[v] = "x" },
		func(m *metav1.ObjectMeta, v string) { m.Finalizers = append(m.Finalizers, v) },
		func(m *metav1.ObjectMeta, v string) { m.OwnerReferences[0].APIVersion = v },
		func(m *metav1.ObjectMeta, v string) { m.OwnerReferences[0].Kind = v },
		func(m *metav1.ObjectMeta, v string) { m.OwnerReferences[0].Name = v },
		func(m *metav1.ObjectMeta, v string) { m.OwnerReferences[0].UID = types.UID(v) },
		func(m *metav1.ObjectMeta, v string) { m.ManagedFields[0].Manager = v },
		func(m *metav1.ObjectMeta, v string) { m.ManagedFields[0].FieldsType = v },
		func(m *metav1.ObjectMeta, v string) { m.ManagedFields[0].Subresource = v },
		func(m *metav1.ObjectMeta, v string) {
			m.ManagedFields[0].Operation = metav1.ManagedFieldsOperationType(v)
		},
	}
	fixed := []func(m *metav1.ObjectMeta){
		func(m *metav1.ObjectMeta) { m.Generation = -1 },
		func(m *metav1.ObjectMeta) { m.Finalizers = append(m.Finalizers, metav1.FinalizerDeleteDependents) },
		func(m *metav1.ObjectMeta) { m.OwnerReferences = append(m.OwnerReferences, m.OwnerReferences[0]) },
		func(m *metav1.ObjectMeta) {
			m.OwnerReferences = append(m.OwnerReferences, m.OwnerReferences[0])
			m.OwnerReferences[1].Controller = nil
		},
		func(m *metav1.ObjectMeta) { m.OwnerReferences[0].APIVersion, m.OwnerReferences[0].Kind = "v1", "Event" },
		func(m *metav1.ObjectMeta) {
			m.Annotations["big"] = strings.Repeat("x", apivalidation.TotalAnnotationSizeLimitB)
		},
		func(m *metav1.ObjectMeta) {
			m.Annotations["big"] = strings.Repeat("x", apivalidation.TotalAnnotationSizeLimitB-200)
		},
		func(m *metav1.ObjectMeta) { m.ManagedFields[0].Subresource = strings.Repeat("s", 257) },
		func(m *metav1.ObjectMeta) { m.ManagedFields[0].Manager = strings.Repeat("m", 129) },
		func(m *metav1.ObjectMeta) { m.ManagedFields[0].Manager = "tab\there" },
		func(m *metav1.ObjectMeta) { m.Name = "" },
		func(m *metav1.ObjectMeta) { m.GenerateName = "" },
		func(m *metav1.ObjectMeta) { m.Namespace = "" },
	}
	nameFns := map[string]func(string, bool) []string{
		"default": nil, "label": apivalidation.NameIsDNSLabel, "1035": apivalidation.NameIsDNS1035Label,
	}
	compare := func(m *metav1.ObjectMeta, what string) {
		t.Helper()
		for fnName, fn := range nameFns {
			for _, namespaced := range []bool{true, false} {
				upstreamFn := fn
				if upstreamFn == nil {
					upstreamFn = apivalidation.NameIsDNSSubdomain
				}
				errs := apivalidation.ValidateObjectMetaAccessor(m, namespaced, upstreamFn, field.NewPath("metadata"))
				// false is allowed for a valid object only where an annotation's
				// key is not ASCII (upstream lowercases it first).
				if got := metaValid(m, namespaced, fn); got && len(errs) != 0 || !got && len(errs) == 0 && annotationsASCII(m) {
					t.Errorf("%s, names %s, namespaced %v: metaValid %v, upstream %v", what, fnName, namespaced, got, errs)
				}
			}
		}
	}
	compare(base(), "base")
	for i, f := range fixed {
		m := base()
		f(m)
		compare(m, "fixed change "+string(rune('a'+i)))
	}
	names := append(nameCases(), randomNames(1500)...)
	for i, f := range change {
		for _, v := range names {
			m := base()
			f(m, v)
			compare(m, "change "+string(rune('a'+i))+" to "+v)
		}
	}
}

func ascii(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return false
		}
	}
	return true
}

func annotationsASCII(m *metav1.ObjectMeta) bool {
	for k := range m.Annotations {
		if !ascii(k) {
			return false
		}
	}
	return true
}

func BenchmarkValidateMeta(b *testing.B) {
	yes := true
	m := &metav1.ObjectMeta{
		Name: "web-7d9f8b-x1z2q", GenerateName: "web-7d9f8b-", Namespace: "default",
		Labels: map[string]string{"app": "web", "pod-template-hash": "7d9f8b"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8b",
			UID: types.UID("u"), Controller: &yes}},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1"}},
	}
	s := &Store{r: &Resource{Namespaced: true}}
	b.Run("regis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if errs := s.validateMeta(m); len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			errs := apivalidation.ValidateObjectMetaAccessor(m, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
			if len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	})
}
