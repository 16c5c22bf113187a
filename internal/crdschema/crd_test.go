package crdschema

import (
	"context"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"
)

func TestDefaultCRD(t *testing.T) {
	crd := loadCRD(t, "gadgets.yaml")
	if crd.Spec.Names.ListKind != "GadgetList" || crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy != apiextensionsv1.NoneConverter {
		t.Errorf("defaults not applied: %+v", crd.Spec)
	}
	if got := crd.Status.StoredVersions; len(got) != 1 || got[0] != "v1" {
		t.Errorf("storedVersions %v", got)
	}
}

type crdCase struct {
	name   string
	file   string
	mutate func(*apiextensionsv1.CustomResourceDefinition)
	want   []string // prefixes of the errors
}

// crdCases are CRDs and upstream's errors for them (also run against a real
// kube-apiserver by oracle_test.go).
var crdCases = []crdCase{
	{name: "fixture", file: "widgets.yaml"},
	{name: "rich", file: "gadgets.yaml"},
	{name: "name not plural.group", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Name = "widget.example.com"
	}, want: []string{`metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group`}},
	{name: "bad names", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Spec.Names.Kind = "Widget_Kind"
		c.Spec.Names.ShortNames = []string{"W D"}
	}, want: []string{
		`spec.names.kind: Invalid value: "Widget_Kind": may have mixed case, but should otherwise match: a DNS-1035 label`,
		`spec.names.shortNames[0]: Invalid value: "W D": a DNS-1035 label must consist of lower case alphanumeric characters`,
	}},
	{name: "two storage versions", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		v2 := *c.Spec.Versions[0].DeepCopy()
		v2.Name = "v2"
		c.Spec.Versions = append(c.Spec.Versions, v2)
	}, want: []string{
		`spec.versions: Invalid value: [{"Name":"v1","Served":true,"Storage":true,`,
		`status.storedVersions: Invalid value: ["v1"]: must have the storage version v2`,
	}},
	{name: "non-structural schema", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		p := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
		sz := p.Properties["size"]
		sz.Type = ""
		p.Properties["size"] = sz
		c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = p
	}, want: []string{`spec.validation.openAPIV3Schema.properties[spec].properties[size].type: Required value: must not be empty for specified object fields`}},
	{name: "bad CEL", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		p := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
		p.XValidations = apiextensionsv1.ValidationRules{{Rule: "self.size >"}, {Rule: "self.nope == 1"}}
		c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = p
	}, want: []string{
		"spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {\"Rule\":\"self.size \\u003e\",\"Message\":\"\",\"MessageExpression\":\"\",\"Reason\":null,\"FieldPath\":\"\",\"OptionalOldSelf\":null}: compilation failed: ERROR: <input>:1:12: Syntax error: mismatched input '<EOF>'",
		"spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule: Invalid value: {\"Rule\":\"self.nope == 1\",\"Message\":\"\",\"MessageExpression\":\"\",\"Reason\":null,\"FieldPath\":\"\",\"OptionalOldSelf\":null}: compilation failed: ERROR: <input>:1:5: undefined field 'nope'",
	}},
	{name: "CEL rule over budget", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		p := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
		p.Properties["list"] = apiextensionsv1.JSONSchemaProps{Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{Type: "string"}},
			XValidations: apiextensionsv1.ValidationRules{{Rule: "self.all(x, self.all(y, self.all(z, x + y == z)))"}}}
		c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = p
	}, want: []string{
		"spec.validation.openAPIV3Schema.properties[spec].properties[list].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of",
		"spec.validation.openAPIV3Schema.properties[spec].properties[list].x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit",
		"spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget",
	}},
	{name: "default does not match the schema", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		p := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
		sz := p.Properties["size"]
		sz.Default = &apiextensionsv1.JSON{Raw: []byte(`0`)}
		p.Properties["size"] = sz
		c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = p
	}, want: []string{`spec.validation.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: 0:  in body should be greater than or equal to 1`}},
	{name: "scale without status replicas path", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Subresources.Scale = &apiextensionsv1.CustomResourceSubresourceScale{SpecReplicasPath: "spec.size", LabelSelectorPath: ptr.To(".status.sel")}
	}, want: []string{
		`spec.subresources.scale.specReplicasPath: Invalid value: "spec.size": must be a simple json path starting with .`,
		`spec.subresources.scale.statusReplicasPath: Required value`,
	}},
	{name: "bad printer column", file: "widgets.yaml", mutate: func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Spec.Versions[0].AdditionalPrinterColumns[0].Type = "long"
	}, want: []string{`spec.additionalPrinterColumns[0].type: Invalid value: "long": must be one of boolean,date,integer,number,string`}},
}

// TestValidateCRD pins upstream's paths and messages. Note that the v1 to
// internal conversion moves per-version schema, subresources, columns and
// selectable fields to spec.validation, spec.subresources, ... when every
// version has the same, so upstream's errors name those paths then.
func TestValidateCRD(t *testing.T) {
	ctx := context.Background()
	for _, tc := range crdCases {
		t.Run(tc.name, func(t *testing.T) {
			crd := loadCRD(t, tc.file)
			if tc.mutate != nil {
				tc.mutate(crd)
			}
			var got []string
			for _, e := range ValidateCRD(ctx, crd) {
				got = append(got, e.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n\t%s", len(got), len(tc.want), strings.Join(got, "\n\t"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d\n\tgot  %s\n\twant %s...", i, got[i], tc.want[i])
				}
			}
		})
	}
}
