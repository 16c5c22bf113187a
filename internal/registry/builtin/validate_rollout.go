package builtin

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Rollout strategies of deployments, stateful sets and daemon sets
// (k8s.io/kubernetes pkg/apis/apps/validation, v1.37).

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(path.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(path.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(s.RollingUpdate.MaxUnavailable, s.RollingUpdate.MaxSurge, path.Child("rollingUpdate"), false)
	default:
		return field.ErrorList{field.NotSupported(path, internalJSON{s}, []string{"Recreate", "RollingUpdate"})}
	}
	return nil
}

// validateRollingUpdate checks maxUnavailable and maxSurge; daemonSet
// words the both-zero error as upstream's daemon set validation does.
func validateRollingUpdate(unavailable, surge *intstr.IntOrString, path *field.Path, daemonSet bool) field.ErrorList {
	var errs field.ErrorList
	var u, s intstr.IntOrString
	if unavailable != nil {
		u = *unavailable
	}
	if surge != nil {
		s = *surge
	}
	errs = append(errs, validateIntOrPercent(u, path.Child("maxUnavailable"))...)
	errs = append(errs, validateIntOrPercent(s, path.Child("maxSurge"))...)
	if intOrPercentValue(u) == 0 && intOrPercentValue(s) == 0 {
		if daemonSet {
			errs = append(errs, field.Required(path.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		} else {
			errs = append(errs, field.Invalid(path.Child("maxUnavailable"), internalJSON{u}, "may not be 0 when `maxSurge` is 0"))
		}
	}
	if v, percent := percentValue(u); percent && v > 100 {
		errs = append(errs, field.Invalid(path.Child("maxUnavailable"), internalJSON{u}, "must not be greater than 100%"))
	}
	return errs
}

func validateIntOrPercent(v intstr.IntOrString, path *field.Path) field.ErrorList {
	if v.Type == intstr.String {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(path, internalJSON{v}, msg))
		}
		return errs
	}
	return apivalidation.ValidateNonnegativeField(int64(v.IntValue()), path)
}

func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n, err == nil
}

func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

func validateStatefulSetSpec(s *appsv1.StatefulSetSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(path.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(path.Child("podManagementPolicy"), s.PodManagementPolicy,
			"must be 'OrderedReady' or 'Parallel'"))
	}
	u := s.UpdateStrategy
	switch u.Type {
	case "":
		errs = append(errs, field.Required(path.Child("updateStrategy"), ""))
	case appsv1.OnDeleteStatefulSetStrategyType:
		if u.RollingUpdate != nil {
			errs = append(errs, field.Invalid(path.Child("updateStrategy", "rollingUpdate"), internalJSON{u.RollingUpdate},
				"only allowed for updateStrategy 'RollingUpdate'"))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if r := u.RollingUpdate; r != nil && r.Partition != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*r.Partition),
				path.Child("updateStrategy", "rollingUpdate", "partition"))...)
		}
	default:
		errs = append(errs, field.Invalid(path.Child("updateStrategy"), internalJSON{u}, "must be 'RollingUpdate' or 'OnDelete'"))
	}
	if p := s.PersistentVolumeClaimRetentionPolicy; p != nil {
		pp := path.Child("persistentVolumeClaimRetentionPolicy")
		for _, f := range []struct {
			name  string
			value appsv1.PersistentVolumeClaimRetentionPolicyType
		}{{"whenDeleted", p.WhenDeleted}, {"whenScaled", p.WhenScaled}} {
			switch f.value {
			case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
			default:
				errs = append(errs, field.NotSupported(pp.Child(f.name), f.value, []string{"Retain", "Delete"}))
			}
		}
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), path.Child("minReadySeconds"))...)
	return errs
}

// validateStatefulSetUpdate is upstream's ValidateStatefulSetUpdate
// beyond the spec's validation: the selector, claim templates, service
// name and pod management policy never change.
func validateStatefulSetUpdate(o, old runtime.Object) field.ErrorList {
	s, prev := &o.(*appsv1.StatefulSet).Spec, &old.(*appsv1.StatefulSet).Spec
	path := field.NewPath("spec")
	errs := apivalidation.ValidateImmutableField(s.Selector, prev.Selector, path.Child("selector"))
	if !equalJSON(s.VolumeClaimTemplates, prev.VolumeClaimTemplates) {
		errs = append(errs, field.Invalid(path.Child("volumeClaimTemplates"), internalJSON{s.VolumeClaimTemplates}, apivalidation.FieldImmutableErrorMsg))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(s.ServiceName, prev.ServiceName, path.Child("serviceName"))...)
	return append(errs, apivalidation.ValidateImmutableField(s.PodManagementPolicy, prev.PodManagementPolicy, path.Child("podManagementPolicy"))...)
}

func validateDaemonSetStrategy(u *appsv1.DaemonSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch u.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if u.RollingUpdate == nil {
			return field.ErrorList{field.Required(path.Child("rollingUpdate"), "")}
		}
		return validateRollingUpdate(u.RollingUpdate.MaxUnavailable, u.RollingUpdate.MaxSurge, path.Child("rollingUpdate"), true)
	case "":
		return field.ErrorList{field.Required(path.Child("type"), "")}
	default:
		return field.ErrorList{field.NotSupported(path, internalJSON{u}, []string{"RollingUpdate", "OnDelete"})}
	}
	return nil
}
