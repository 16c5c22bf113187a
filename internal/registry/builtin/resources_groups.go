package builtin

import (
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// groupRows are the rows of the API groups and resources of kube-apiserver
// 1.37's default surface that the main table (Resources) does not hold,
// kube-aggregator's apiregistration.k8s.io APIServices among them.
func groupRows() []*registry.Resource {
	var rs []*registry.Resource
	rs = append(rs, autoscalingRows()...)
	rs = append(rs, admissionRows()...)
	rs = append(rs, certificatesRows()...)
	rs = append(rs, clusterTrustBundleRow(), podCertificateRequestRow())
	rs = append(rs, flowcontrolRows()...)
	rs = append(rs, nodeRows()...)
	rs = append(rs, schedulingRows()...)
	rs = append(rs, ingressClassRows()...)
	rs = append(rs, storageCSIRows()...)
	rs = append(rs, resourceRows()...)
	rs = append(rs, deviceTaintRuleRow())
	rs = append(rs, storageMigrationRows()...)
	rs = append(rs, apiregistrationRows()...)
	rs = append(rs, apiextensionsRows()...)
	return rs
}

// startGeneration is a PrepareForCreate that starts metadata.generation at
// 1, for the strategies that do so without bumping it on every change
// (priority classes).
func startGeneration(o runtime.Object) { o.(metav1.Object).SetGeneration(1) }

// bumpGeneration returns a PrepareForUpdate that bumps metadata.generation
// when the part of the object part returns changes, as the strategies that
// compare their spec with apiequality.Semantic do.
func bumpGeneration(part func(runtime.Object) any) func(obj, old runtime.Object) {
	return func(obj, old runtime.Object) {
		if !apiequality.Semantic.DeepEqual(part(obj), part(old)) {
			obj.(metav1.Object).SetGeneration(old.(metav1.Object).GetGeneration() + 1)
		}
	}
}

// requiredField returns a Required error for path when value is empty.
func requiredField(value string, path *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	return nil
}

// derefOr returns *p, def when p is nil.
func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// nameColumnDescription describes a Name column a row prints itself.
var nameColumnDescription = metav1.ObjectMeta{}.SwaggerDoc()["name"]
