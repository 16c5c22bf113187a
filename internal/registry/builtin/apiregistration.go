package builtin

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
	"github.com/regis-dev/regis/internal/registry"
)

// apiregistrationRows are kube-aggregator's apiregistration.k8s.io/v1
// APIServices (k8s.io/kube-aggregator pkg/registry/apiservice): cluster
// scoped, with a status, no generation, in the api-extensions category;
// stored as JSON under /registry/apiregistration.k8s.io/apiservices (the
// storage factory picks JSON for groups that are not kube-apiserver's own).
// regis serves every group-version itself, so only local APIServices (no
// spec.service) are available; the autoregistration in internal/controller
// creates one per served group-version.
func apiregistrationRows() []*registry.Resource {
	return []*registry.Resource{
		{Group: apiregistrationv1.GroupName, Version: "v1", Resource: "apiservices", Kind: "APIService",
			Categories: []string{"api-extensions"},
			New:        newFn[apiregistrationv1.APIService], NewList: newFn[apiregistrationv1.APIServiceList],
			Status: true, RequireResourceVersion: true, // AllowUnconditionalUpdate is false
			// ToSelectableFields: ObjectMetaFieldsSet(meta, true), with
			// the (empty) namespace.
			Fields:                 func(runtime.Object) fields.Set { return fields.Set{"metadata.namespace": ""} },
			NameValidation:         pathSegmentName,
			Default:                defaultAPIService,
			PrepareForCreate:       prepareAPIService,
			PrepareForStatusUpdate: prepareAPIServiceStatus,
			Validate:               validateAPIService,
			Columns:                apiServiceColumns},
	}
}

// defaultAPIService is SetDefaults_ServiceReference: port 443.
func defaultAPIService(o runtime.Object) {
	if svc := o.(*apiregistrationv1.APIService).Spec.Service; svc != nil && svc.Port == nil {
		port := int32(443)
		svc.Port = &port
	}
}

// prepareAPIService is the strategy's PrepareForCreate: a new APIService
// starts with an empty status (the store clears it), and a local one is
// available at once.
func prepareAPIService(o runtime.Object) {
	s := o.(*apiregistrationv1.APIService)
	if s.Spec.Service == nil {
		apiregistrationv1.SetAPIServiceCondition(s, apiregistrationv1.NewLocalAvailableAPIServiceCondition())
	}
}

// prepareAPIServiceStatus is the status strategy's PrepareForUpdate: the
// spec (kept by the store), labels, annotations, finalizers and owner
// references stay as stored.
func prepareAPIServiceStatus(obj, old runtime.Object) {
	s, o := obj.(*apiregistrationv1.APIService), old.(*apiregistrationv1.APIService)
	s.Labels, s.Annotations = o.Labels, o.Annotations
	s.Finalizers, s.OwnerReferences = o.Finalizers, o.OwnerReferences
}

// validateAPIService is upstream's ValidateAPIService past the generic
// metadata checks (the name's path-segment rule is the row's
// NameValidation), and ValidateAPIServiceStatus, which only /status can
// make fail (the main resource keeps the stored status).
func validateAPIService(o runtime.Object) field.ErrorList {
	s := o.(*apiregistrationv1.APIService)
	errs := validateAPIServiceName(&s.ObjectMeta, s.Spec.Version+"."+s.Spec.Group)
	errs = append(errs, validateAPIServiceSpec(&s.Spec, field.NewPath("spec"))...)
	return append(errs, validateAPIServiceStatus(&s.Status, field.NewPath("status"))...)
}

// validateAPIServiceName is the rest of upstream's name function: a name
// (and a generateName) that is a path segment must be
// spec.version+"."+spec.group.
func validateAPIServiceName(m *metav1.ObjectMeta, required string) field.ErrorList {
	var errs field.ErrorList
	check := func(value string, path *field.Path) {
		if value != "" && len(content.IsPathSegmentName(value)) == 0 && value != required {
			errs = append(errs, field.Invalid(path, value, fmt.Sprintf("must be `spec.version+\".\"+spec.group`: %q", required)))
		}
	}
	check(m.GenerateName, field.NewPath("metadata", "generateName"))
	check(m.Name, field.NewPath("metadata", "name"))
	return errs
}

// validateAPIServiceSpec checks the group, version, priorities and, for an
// APIService served by a service, the service reference and TLS settings.
func validateAPIServiceSpec(spec *apiregistrationv1.APIServiceSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	// in this case we allow empty group
	if spec.Group == "" && spec.Version != "v1" {
		errs = append(errs, field.Required(path.Child("group"), "only v1 may have an empty group and it better be legacy kube"))
	}
	if spec.Group != "" {
		for _, msg := range registry.IsDNS1123Subdomain(spec.Group) {
			errs = append(errs, field.Invalid(path.Child("group"), spec.Group, msg))
		}
	}
	for _, msg := range utilvalidation.IsDNS1035Label(spec.Version) {
		errs = append(errs, field.Invalid(path.Child("version"), spec.Version, msg))
	}
	if spec.GroupPriorityMinimum <= 0 || spec.GroupPriorityMinimum > 20000 {
		errs = append(errs, field.Invalid(path.Child("groupPriorityMinimum"), spec.GroupPriorityMinimum, "must be positive and less than 20000"))
	}
	if spec.VersionPriority <= 0 || spec.VersionPriority > 1000 {
		errs = append(errs, field.Invalid(path.Child("versionPriority"), spec.VersionPriority, "must be positive and less than 1000"))
	}
	if spec.Service == nil {
		if len(spec.CABundle) != 0 {
			errs = append(errs, field.Invalid(path.Child("caBundle"), fmt.Sprintf("%d bytes", len(spec.CABundle)), "local APIServices may not have a caBundle"))
		}
		if spec.InsecureSkipTLSVerify {
			errs = append(errs, field.Invalid(path.Child("insecureSkipTLSVerify"), spec.InsecureSkipTLSVerify, "local APIServices may not have insecureSkipTLSVerify"))
		}
		return errs
	}
	return append(errs, validateServiceReference(spec, path)...)
}

func validateServiceReference(spec *apiregistrationv1.APIServiceSpec, path *field.Path) field.ErrorList {
	svc, svcPath := spec.Service, path.Child("service")
	errs := requiredField(svc.Namespace, svcPath.Child("namespace"))
	errs = append(errs, requiredField(svc.Name, svcPath.Child("name"))...)
	port := derefOr(svc.Port, 0) // the internal type's int32
	if msgs := utilvalidation.IsValidPortNum(int(port)); msgs != nil {
		errs = append(errs, field.Invalid(svcPath.Child("port"), port, "port is not valid: "+strings.Join(msgs, ", ")))
	}
	if spec.InsecureSkipTLSVerify && len(spec.CABundle) > 0 {
		errs = append(errs, field.Invalid(path.Child("insecureSkipTLSVerify"), spec.InsecureSkipTLSVerify, "may not be true if caBundle is present"))
	}
	return errs
}

// validateAPIServiceStatus refuses a condition status other than True,
// False or Unknown.
func validateAPIServiceStatus(status *apiregistrationv1.APIServiceStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range status.Conditions {
		switch c.Status {
		case apiregistrationv1.ConditionTrue, apiregistrationv1.ConditionFalse, apiregistrationv1.ConditionUnknown:
		default:
			errs = append(errs, field.NotSupported(path.Child("conditions").Index(i).Child("status"), c.Status, []string{
				string(apiregistrationv1.ConditionTrue), string(apiregistrationv1.ConditionFalse), string(apiregistrationv1.ConditionUnknown)}))
		}
	}
	return errs
}

// apiServiceColumns are the aggregator's ConvertToTable columns.
var apiServiceColumns = []registry.Column{
	{Name: "Service", Type: "string", Description: "The reference to the service that hosts this API endpoint.",
		Cell: func(o runtime.Object) any { return apiServiceService(o.(*apiregistrationv1.APIService)) }},
	{Name: "Available", Type: "string", Description: "Whether this service is available.",
		Cell: func(o runtime.Object) any { return apiServiceAvailable(o.(*apiregistrationv1.APIService)) }},
	registry.AgeColumn,
}

// apiServiceService is "Local", or namespace/name of the service.
func apiServiceService(s *apiregistrationv1.APIService) string {
	if svc := s.Spec.Service; svc != nil {
		return svc.Namespace + "/" + svc.Name
	}
	return "Local"
}

// apiServiceAvailable is the Available condition's status, with its
// reason when it is not True; Unknown without the condition.
func apiServiceAvailable(s *apiregistrationv1.APIService) string {
	for _, c := range s.Status.Conditions {
		if c.Type != apiregistrationv1.Available {
			continue
		}
		if c.Status != apiregistrationv1.ConditionTrue && c.Reason != "" {
			return fmt.Sprintf("%s (%s)", c.Status, c.Reason)
		}
		return string(c.Status)
	}
	return string(apiregistrationv1.ConditionUnknown)
}
