// Package crdschema is the schema half of CustomResourceDefinitions: the
// checks of a CRD object and, per served version, the structural schema that
// prunes, defaults and validates its custom resources, as
// kube-apiserver v1.37.2 does.
//
// It is built on upstream's leaf packages of k8s.io/apiextensions-apiserver
// (pkg/apiserver/schema and its pruning, defaulting, objectmeta, listtype and
// cel packages, pkg/apiserver/validation, the openapi/v2 converter) and
// k8s.io/apiserver/pkg/cel, never on upstream's server, registry or storage
// packages (.ci/run holds the allowlist). The CRD object checks are upstream's
// pkg/apis/apiextensions/validation, copied into crdvalidation because that
// package imports the webhook client (see crdvalidation's doc).
//
// CRD objects (apiextensions.k8s.io/v1 types):
//
//	Default(crd)                              v1 defaults (SetObjectDefaults)
//	PrepareCRDForCreate / ForUpdate / ForStatusUpdate   upstream's strategy
//	ValidateCRD, ValidateCRDUpdate, ValidateCRDStatusUpdate   field.ErrorList
//	WarningsOnCRDCreate, WarningsOnCRDUpdate  upstream's warnings
//
// Custom resources, per version:
//
//	s, err := Compile(crd, "v1")
//	unknown, err := s.Prune(obj)     // on decode of a request; unknown for fieldValidation
//	err = s.PruneStored(obj)         // on decode from etcd
//	s.Default(obj)                   // after either
//	errs := s.Validate(ctx, obj, nil)          // create
//	errs = s.Validate(ctx, obj, old)           // update
//	errs = s.ValidateStatus(ctx, obj, old)     // update of /status
//	warnings := Warnings(obj, old)             // finalizer names
//
// and OpenAPIDefinitions for /openapi/v2, /openapi/v3 and server-side apply,
// ColumnsForVersion, ScaleColumnsForVersion and NewTableConvertor for Table
// output, NewSelectableFields for field selectors.
//
// Objects are map[string]any as k8s.io/apimachinery's unstructured JSON
// decoding makes them (int64 and float64 numbers).
package crdschema
