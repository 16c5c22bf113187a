package crdschema

import (
	"fmt"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/util/jsonpath"
)

// ColumnsForVersion is upstream's getColumnsForVersion: the version's
// additionalPrinterColumns, or an Age column when it has none.
func ColumnsForVersion(crd *apiextensionsv1.CustomResourceDefinition, version string) ([]apiextensionsv1.CustomResourceColumnDefinition, error) {
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		if len(v.AdditionalPrinterColumns) > 0 {
			return v.AdditionalPrinterColumns, nil
		}
		return []apiextensionsv1.CustomResourceColumnDefinition{ageColumn()}, nil
	}
	return nil, fmt.Errorf("version %s not found in apiextensionsv1.CustomResourceDefinition: %v", version, crd.Name)
}

// ScaleColumnsForVersion is upstream's getScaleColumnsForVersion: the
// columns of the Table of the scale subresource (Desired, Available, Age),
// whose cells are read from the autoscaling/v1 Scale.
func ScaleColumnsForVersion(crd *apiextensionsv1.CustomResourceDefinition, version string) ([]apiextensionsv1.CustomResourceColumnDefinition, error) {
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		var cols []apiextensionsv1.CustomResourceColumnDefinition
		if v.Subresources != nil && v.Subresources.Scale != nil {
			if v.Subresources.Scale.SpecReplicasPath != "" {
				cols = append(cols, apiextensionsv1.CustomResourceColumnDefinition{
					Name: "Desired", Type: "integer", Description: "Number of desired replicas", JSONPath: ".spec.replicas",
				})
			}
			if v.Subresources.Scale.StatusReplicasPath != "" {
				cols = append(cols, apiextensionsv1.CustomResourceColumnDefinition{
					Name: "Available", Type: "integer", Description: "Number of actual replicas", JSONPath: ".status.replicas",
				})
			}
		}
		return append(cols, ageColumn()), nil
	}
	return nil, fmt.Errorf("version %s not found in apiextensionsv1.CustomResourceDefinition: %v", version, crd.Name)
}

func ageColumn() apiextensionsv1.CustomResourceColumnDefinition {
	return apiextensionsv1.CustomResourceColumnDefinition{
		Name: "Age", Type: "date", Description: swaggerMetadataDescriptions["creationTimestamp"], JSONPath: ".metadata.creationTimestamp",
	}
}

// SelectableFields computes the field-selector values of a CRD version's
// selectableFields, as upstream's customResourceStrategy.selectableFields
// (metadata.name and metadata.namespace are the caller's).
type SelectableFields struct {
	// mu serializes the parsed paths: a jsonpath.JSONPath keeps state while
	// it evaluates.
	mu     sync.Mutex
	fields []selectableField
}

type selectableField struct {
	name string
	path *jsonpath.JSONPath
	err  error
}

// NewSelectableFields parses the version's selectableFields. A path that
// does not parse (ValidateCRD refuses it) makes Values fail, as upstream.
func NewSelectableFields(crd *apiextensionsv1.CustomResourceDefinition, version string) *SelectableFields {
	sf := &SelectableFields{}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		for _, f := range v.SelectableFields {
			p := jsonpath.New("selectableField")
			p.AllowMissingKeys(true)
			err := p.Parse("{" + f.JSONPath + "}")
			sf.fields = append(sf.fields, selectableField{name: strings.TrimPrefix(f.JSONPath, "."), path: p, err: err})
		}
	}
	return sf
}

// Names are the field names a field selector may use besides
// metadata.name and metadata.namespace ("spec.color").
func (s *SelectableFields) Names() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return names
}

// Values returns each selectable field's value in obj, formatted with
// fmt.Sprint, "" when missing or null, as upstream.
func (s *SelectableFields) Values(obj map[string]any) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.fields))
	for _, f := range s.fields {
		if f.err != nil {
			return nil, fmt.Errorf("unexpected error parsing jsonPath: %w", f.err)
		}
		results, err := f.path.FindResults(obj)
		if err != nil {
			return nil, fmt.Errorf("unexpected error finding value with jsonPath: %w", err)
		}
		var value any
		if len(results) > 0 && len(results[0]) > 0 {
			if len(results) > 1 || len(results[0]) > 1 {
				return nil, fmt.Errorf("unexpectedly received more than one JSON path result")
			}
			value = results[0][0].Interface()
		}
		if value != nil {
			out[f.name] = fmt.Sprint(value)
		} else {
			out[f.name] = ""
		}
	}
	return out, nil
}
