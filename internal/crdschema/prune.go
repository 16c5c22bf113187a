package crdschema

import (
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Prune is what upstream does to a custom resource decoded from a request
// (unstructuredSchemaCoercer with returnUnknownFieldPaths): metadata is
// coerced to ObjectMeta's fields, unknown fields are pruned following the
// structural schema (x-kubernetes-preserve-unknown-fields and embedded
// resources respected), non-nullable nulls without a default are dropped, and
// embedded resources' metadata is coerced. It returns the paths of the fields
// it dropped, in upstream's spelling ("spec.foo", "metadata.bar"): with
// fieldValidation=Strict each is an error `unknown field "PATH"`, with Warn a
// warning of the same text. Objects of another group or kind (not this
// Schema's) keep their fields, as upstream. The error is a malformed metadata
// (upstream answers 400 BadRequest with it).
func (s *Schema) Prune(obj map[string]any) ([]string, error) {
	return s.coerce(obj, false, true)
}

// PruneStored is what upstream does to a custom resource read from etcd:
// as Prune, but malformed metadata fields are dropped rather than refused,
// and a missing generation becomes 1. Call Default after it.
func (s *Schema) PruneStored(obj map[string]any) error {
	_, err := s.coerce(obj, true, false)
	return err
}

// coerce is upstream's unstructuredSchemaCoercer.apply.
func (s *Schema) coerce(obj map[string]any, fromStorage, returnPaths bool) ([]string, error) {
	u := &unstructured.Unstructured{Object: obj}
	kind, foundKind, err := unstructured.NestedString(obj, "kind")
	if err != nil {
		return nil, err
	}
	apiVersion, foundAPIVersion, err := unstructured.NestedString(obj, "apiVersion")
	if err != nil {
		return nil, err
	}
	objectMeta, foundObjectMeta, paths, err := schemaobjectmeta.GetObjectMetaWithOptions(obj, schemaobjectmeta.ObjectMetaOptions{
		DropMalformedFields:     fromStorage,
		ReturnUnknownFieldPaths: returnPaths,
	})
	if err != nil {
		return nil, err
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	if gv.Group == s.kind.Group && kind == s.kind.Kind {
		if !s.preserveUnknownFields && s.structural != nil {
			opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: returnPaths}
			paths = append(paths, structuralpruning.PruneWithOptions(obj, s.structural, true, opts)...)
			structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, s.structural)
		}
		if s.structural != nil {
			ferr, metaPaths := schemaobjectmeta.CoerceWithOptions(nil, obj, s.structural, false, schemaobjectmeta.CoerceOptions{
				DropInvalidFields:       fromStorage,
				ReturnUnknownFieldPaths: returnPaths,
			})
			if ferr != nil {
				return nil, ferr
			}
			paths = append(paths, metaPaths...)
		}
		// Upstream dereferences objectMeta here; an object without metadata
		// (never stored by an API server) would panic.
		if fromStorage && objectMeta != nil && objectMeta.Generation == 0 {
			objectMeta.Generation = 1
		}
	}
	if foundKind {
		u.SetKind(kind)
	}
	if foundAPIVersion {
		u.SetAPIVersion(apiVersion)
	}
	if foundObjectMeta {
		if err := schemaobjectmeta.SetObjectMeta(obj, objectMeta); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
