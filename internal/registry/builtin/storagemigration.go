package builtin

import (
	"strings"

	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	storagemigrationv1beta1 "k8s.io/api/storagemigration/v1beta1"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// storageMigrationRows are storagemigration.k8s.io/v1: storage version
// migrations, cluster-scoped, stored as v1beta1 (kube-apiserver's storage
// factory keeps the beta as storage version in 1.37). Upstream's strategy
// (pkg/registry/storagemigration/storagemigration) clears the status on
// create, keeps it on update, bumps no generation, creates nothing on
// update and updates only with a resourceVersion; its status strategy
// keeps the spec and resets the metadata (ResetObjectMetaForStatus).
//
// Validation (pkg/apis/storagemigration/validation): a status update
// runs ValidateStorageVersionMigrationStatusUpdate, of which the store
// can run only the checks that need no stored object (see
// validateSVMStatus): the store has no hook for a status update's own
// validation against the stored object, so a status.resourceVersion
// changed once set and a Succeeded or Failed condition turned back are
// not refused.
func storageMigrationRows() []*registry.Resource {
	return []*registry.Resource{
		{Group: "storagemigration.k8s.io", Version: "v1", Resource: "storageversionmigrations",
			Kind: "StorageVersionMigration", Status: true, RequireResourceVersion: true,
			StorageVersion: storagemigrationv1beta1.SchemeGroupVersion,
			New:            newFn[storagemigrationv1.StorageVersionMigration],
			NewList:        newFn[storagemigrationv1.StorageVersionMigrationList],
			ValidateCreate: validateSVMCreate, ValidateUpdate: validateSVMUpdate, ValidateUpdateFirst: true,
			Validate:               validateSVMStatus,
			PrepareForStatusUpdate: resetMetaForStatus,
			Columns:                svmColumns,
			Convert: &registry.Conversion{
				ToStorage:     func(o runtime.Object) (runtime.Object, error) { return svmToV1beta1(o), nil },
				FromStorage:   func(o runtime.Object) (runtime.Object, error) { return svmFromV1beta1(o), nil },
				NewStored:     newFn[storagemigrationv1beta1.StorageVersionMigration],
				NewStoredList: newFn[storagemigrationv1beta1.StorageVersionMigrationList],
			},
		},
	}
}

// validateSVMCreate is upstream's ValidateStorageVersionMigration on
// create (the store checks the metadata before).
func validateSVMCreate(o runtime.Object) field.ErrorList {
	return validateSVMSpec(o.(*storagemigrationv1.StorageVersionMigration))
}

// validateSVMUpdate is ValidateStorageVersionMigrationUpdate but for its
// metadata checks, which the store has made: the spec, and its
// immutability. (Upstream checks the metadata there a second time, after
// the generic checks, yet answers each error once.)
func validateSVMUpdate(o, old runtime.Object) field.ErrorList {
	svm, prev := o.(*storagemigrationv1.StorageVersionMigration), old.(*storagemigrationv1.StorageVersionMigration)
	errs := validateSVMSpec(svm)
	if svm.Spec != prev.Spec {
		errs = append(errs, field.Invalid(field.NewPath("spec"), internalJSON{svm.Spec}, apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}

// validateSVMSpec checks the resource to migrate: a DNS-1035 resource, as
// an APIService's, and a DNS-1123 subdomain group when set.
func validateSVMSpec(svm *storagemigrationv1.StorageVersionMigration) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec", "resource")
	gr := svm.Spec.Resource
	if gr.Resource == "" {
		errs = append(errs, field.Required(path.Child("resource"), "resource is required to be set"))
	} else if msgs := validation.IsDNS1035Label(gr.Resource); len(msgs) > 0 {
		errs = append(errs, field.Invalid(path.Child("resource"), gr.Resource, strings.Join(msgs, ",")))
	}
	if gr.Group != "" {
		if msgs := registry.IsDNS1123Subdomain(gr.Group); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path.Child("group"), gr.Group, strings.Join(msgs, ",")))
		}
	}
	return errs
}

// validateSVMStatus is ValidateStorageVersionMigrationStatusUpdate but
// for its checks against the stored object: a well-formed resource
// version, the conditions, and not both Succeeded and Failed. The store
// runs it on every write, where only /status can make it fail: a create
// clears the status and an update of the object keeps the stored one.
func validateSVMStatus(o runtime.Object) field.ErrorList {
	svm := o.(*storagemigrationv1.StorageVersionMigration)
	var errs field.ErrorList
	path := field.NewPath("status")
	if rv := svm.Status.ResourceVersion; rv != "" {
		// Upstream compares the version with itself to parse it.
		if _, err := resourceversion.CompareResourceVersion(rv, rv); err != nil {
			errs = append(errs, field.Invalid(path.Child("resourceVersion"), rv, err.Error()))
		}
	}
	errs = append(errs, metav1validation.ValidateConditions(svm.Status.Conditions, path.Child("conditions"))...)
	if svmCondition(svm, storagemigrationv1.MigrationSucceeded) && svmCondition(svm, storagemigrationv1.MigrationFailed) {
		errs = append(errs, field.Invalid(path.Child("conditions"), svm.Status.Conditions,
			"Both success and failed conditions cannot be true at the same time"))
	}
	return errs
}

// svmCondition reports whether the condition of type t is True.
func svmCondition(svm *storagemigrationv1.StorageVersionMigration, t storagemigrationv1.MigrationConditionType) bool {
	c := meta.FindStatusCondition(svm.Status.Conditions, string(t))
	return c != nil && c.Status == metav1.ConditionTrue
}

// svmColumns are upstream's printer's: no AGE, and the status is the last
// True one of Running, Failed and Succeeded, or Unknown.
var svmColumns = []registry.Column{
	{Name: "Name", Type: "string", Description: nameColumnDescription,
		Cell: func(o runtime.Object) any { return o.(*storagemigrationv1.StorageVersionMigration).Name }},
	{Name: "Resource", Type: "string", Description: "GroupResource to migrate",
		Cell: func(o runtime.Object) any {
			gr := o.(*storagemigrationv1.StorageVersionMigration).Spec.Resource
			return schema.GroupResource{Group: gr.Group, Resource: gr.Resource}.String()
		}},
	{Name: "Status", Type: "string", Description: "Status of the migration", Cell: svmStatusCell},
}

func svmStatusCell(o runtime.Object) any {
	status := "Unknown"
	for _, c := range o.(*storagemigrationv1.StorageVersionMigration).Status.Conditions {
		if c.Status != metav1.ConditionTrue {
			continue
		}
		switch storagemigrationv1.MigrationConditionType(c.Type) {
		case storagemigrationv1.MigrationRunning, storagemigrationv1.MigrationFailed, storagemigrationv1.MigrationSucceeded:
			status = c.Type
		}
	}
	return status
}

// svmToV1beta1 and svmFromV1beta1 convert between the served and the
// stored version, whose types are the same.
func svmToV1beta1(o runtime.Object) runtime.Object {
	svm := o.(*storagemigrationv1.StorageVersionMigration).DeepCopy()
	return &storagemigrationv1beta1.StorageVersionMigration{
		TypeMeta:   typeMeta(storagemigrationv1beta1.SchemeGroupVersion.String(), "StorageVersionMigration"),
		ObjectMeta: svm.ObjectMeta,
		Spec:       storagemigrationv1beta1.StorageVersionMigrationSpec{Resource: svm.Spec.Resource},
		Status: storagemigrationv1beta1.StorageVersionMigrationStatus{
			Conditions: svm.Status.Conditions, ResourceVersion: svm.Status.ResourceVersion},
	}
}

func svmFromV1beta1(o runtime.Object) runtime.Object {
	svm := o.(*storagemigrationv1beta1.StorageVersionMigration).DeepCopy()
	return &storagemigrationv1.StorageVersionMigration{
		TypeMeta:   typeMeta(storagemigrationv1.SchemeGroupVersion.String(), "StorageVersionMigration"),
		ObjectMeta: svm.ObjectMeta,
		Spec:       storagemigrationv1.StorageVersionMigrationSpec{Resource: svm.Spec.Resource},
		Status: storagemigrationv1.StorageVersionMigrationStatus{
			Conditions: svm.Status.Conditions, ResourceVersion: svm.Status.ResourceVersion},
	}
}
