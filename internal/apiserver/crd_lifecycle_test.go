package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

func lifecycleCRD(plural, kind string, shortNames ...string) string {
	return fmt.Sprintf(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"%s.life.example.com"},
"spec":{"group":"life.example.com","scope":"Namespaced",
 "names":{"plural":%q,"singular":%q,"kind":%q,"shortNames":%s},
 "versions":[{"name":"v1","served":true,"storage":true,
  "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer","description":"how big"}}}}}}}]}}`,
		plural, plural, strings.TrimSuffix(plural, "s"), kind, jsonList(shortNames))
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// TestCustomResourceDefinitionNames checks the conditions of CRDs whose
// names conflict with another's of the group, then are fixed; and that an
// accepted CRD reaches discovery and OpenAPI.
func TestCustomResourceDefinitionNames(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	dc := dyn(t, s)
	crds := dc.Resource(crdsResource)
	create := func(body string) {
		t.Helper()
		if _, err := crds.Create(ctx, crObj(t, body), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	condition := func(name string, typ apiextensionsv1.CustomResourceDefinitionConditionType, status apiextensionsv1.ConditionStatus, reason, message string) func() error {
		return func() error {
			c, err := getCRD(ctx, dc, name)
			if err != nil {
				return err
			}
			got := findCondition(c, typ)
			if got == nil || got.Status != status || got.Reason != reason || (message != "" && got.Message != message) {
				return fmt.Errorf("%s condition %+v, want %s %s %q", typ, got, status, reason, message)
			}
			return nil
		}
	}
	foos := schema.GroupVersionResource{Group: "life.example.com", Version: "v1", Resource: "foos"}
	bars := schema.GroupVersionResource{Group: "life.example.com", Version: "v1", Resource: "bars"}
	bazs := schema.GroupVersionResource{Group: "life.example.com", Version: "v1", Resource: "bazs"}

	create(lifecycleCRD("foos", "Foo", "fo"))
	eventually(t, "foos accepted", condition("foos.life.example.com", apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionTrue, "NoConflicts", "no conflicts found"))
	eventually(t, "foos established", condition("foos.life.example.com", apiextensionsv1.Established, apiextensionsv1.ConditionTrue, "InitialNamesAccepted", "the initial names have been accepted"))
	waitEstablished(t, s, "foos.life.example.com", foos)
	c, err := getCRD(ctx, dc, "foos.life.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Status.AcceptedNames; n.Plural != "foos" || n.Kind != "Foo" || n.ListKind != "FooList" || !slices.Equal(n.ShortNames, []string{"fo"}) {
		t.Errorf("acceptedNames %+v", n)
	}
	if !slices.Equal(c.Status.StoredVersions, []string{"v1"}) {
		t.Errorf("storedVersions %v", c.Status.StoredVersions)
	}
	// The cleanup finalizer comes with the delete, as upstream's.
	if len(c.Finalizers) != 0 {
		t.Errorf("finalizers %v", c.Finalizers)
	}

	// bars asks for foos's kind (and so list kind: upstream's last
	// conflict names the condition), bazs for its short name.
	create(lifecycleCRD("bars", "Foo"))
	create(lifecycleCRD("bazs", "Baz", "fo"))
	eventually(t, "bars refused", condition("bars.life.example.com", apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionFalse, "ListKindConflict", `"FooList" is already in use`))
	eventually(t, "bars not established", condition("bars.life.example.com", apiextensionsv1.Established, apiextensionsv1.ConditionFalse, "NotAccepted", "not all names are accepted"))
	eventually(t, "bazs refused", condition("bazs.life.example.com", apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionFalse, "ShortNamesConflict", `"fo" is already in use`))
	for _, gvr := range []schema.GroupVersionResource{bars, bazs} {
		if _, err := dc.Resource(gvr).Namespace("default").List(ctx, listAll); err == nil {
			t.Errorf("%s served with names refused", gvr.Resource)
		} else if code, _ := statusCauses(err); code != 404 {
			t.Errorf("%s: %v, want 404", gvr.Resource, err)
		}
	}

	// Fixed: bars takes its own kind and list kind (defaulted to FooList
	// at create), and is served.
	if _, err := crds.Patch(ctx, "bars.life.example.com", types.MergePatchType, []byte(`{"spec":{"names":{"kind":"Bar","listKind":"BarList"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bars accepted", condition("bars.life.example.com", apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionTrue, "NoConflicts", ""))
	eventually(t, "bars established", condition("bars.life.example.com", apiextensionsv1.Established, apiextensionsv1.ConditionTrue, "InitialNamesAccepted", ""))
	waitEstablished(t, s, "bars.life.example.com", bars)

	t.Run("discovery and openapi", func(t *testing.T) {
		eventually(t, "foos and bars in discovery", func() error {
			_, lists, err := s.clientset(t).Discovery().ServerGroupsAndResources()
			if err != nil {
				return err
			}
			var got []string
			for _, l := range lists {
				if l.GroupVersion != "life.example.com/v1" {
					continue
				}
				for _, r := range l.APIResources {
					got = append(got, r.Name+"/"+r.Kind+"/"+strings.Join(r.ShortNames, ","))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, []string{"bars/Bar/", "foos/Foo/fo"}) {
				return fmt.Errorf("life.example.com/v1 resources %v", got)
			}
			return nil
		})
		eventually(t, "foos in OpenAPI v3", func() error {
			body, err := s.clientset(t).RESTClient().Get().AbsPath("/openapi/v3/apis/life.example.com/v1").DoRaw(ctx)
			if err != nil {
				return err
			}
			if !strings.Contains(string(body), "com.example.life.v1.Foo") || !strings.Contains(string(body), "how big") {
				return fmt.Errorf("no Foo schema in %.300s", body)
			}
			return nil
		})
	})
}
