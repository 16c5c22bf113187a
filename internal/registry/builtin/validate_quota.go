package builtin

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateLimitRange(o runtime.Object) field.ErrorList { return nil }

func validateResourceQuota(o runtime.Object) field.ErrorList { return nil }

func validateResourceQuotaUpdate(o, old runtime.Object) field.ErrorList { return nil }
