package crdschema

import (
	"context"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

func TestCRDUpdate(t *testing.T) {
	ctx := context.Background()
	old := loadCRD(t, "widgets.yaml")
	PrepareCRDForCreate(old)
	old.ResourceVersion = "1"
	// Names and scope are immutable once the CRD is Established.
	old.Status.Conditions = []apiextensionsv1.CustomResourceDefinitionCondition{{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue}}

	crd := old.DeepCopy()
	crd.Spec.Scope = apiextensionsv1.ClusterScoped
	crd.Status.AcceptedNames.Kind = "Changed"
	PrepareCRDForUpdate(crd, old)
	if crd.Generation != 2 || crd.Status.AcceptedNames.Kind != "" || len(crd.Status.Conditions) != 1 {
		t.Errorf("generation %d, status %+v: want 2 and the old status", crd.Generation, crd.Status)
	}
	want := `spec.scope: Invalid value: "Cluster": field is immutable`
	if errs := ValidateCRDUpdate(ctx, crd, old); len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("got %v, want %s", errs, want)
	}

	// A new storage version is added to storedVersions; the old one stays.
	crd = old.DeepCopy()
	v2 := *crd.Spec.Versions[0].DeepCopy()
	v2.Name = "v2"
	crd.Spec.Versions[0].Storage = false
	crd.Spec.Versions = append(crd.Spec.Versions, v2)
	PrepareCRDForUpdate(crd, old)
	if got := strings.Join(crd.Status.StoredVersions, ","); got != "v1,v2" {
		t.Errorf("storedVersions %s", got)
	}
	if errs := ValidateCRDUpdate(ctx, crd, old); len(errs) != 0 {
		t.Errorf("adding a version: %v", errs)
	}

	// Status: the spec is kept, accepted names are checked.
	st := old.DeepCopy()
	st.Spec.Group = "ignored.example.com"
	PrepareCRDForStatusUpdate(st, old)
	st.Status.AcceptedNames = apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "Widget", ListKind: "WidgetList", Singular: "Widget"}
	errs := ValidateCRDStatusUpdate(ctx, st, old)
	want = "status.acceptedNames.singular: Invalid value: \"Widget\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
	if st.Spec.Group != "example.com" || len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("group %s, errors %v; want %s", st.Spec.Group, errs, want)
	}
}

func TestCRDWarnings(t *testing.T) {
	crd := loadCRD(t, "widgets.yaml")
	p := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	c := p.Properties["color"]
	c.Format = "colour"
	p.Properties["color"] = c
	crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = p
	got := WarningsOnCRDCreate(crd)
	if len(got) != 1 || got[0] != `unrecognized format "colour"` {
		t.Errorf("warnings %q", got)
	}
	if got := WarningsOnCRDUpdate(crd, crd); len(got) != 0 {
		t.Errorf("update warnings of an unchanged format: %q", got)
	}
}
