package builtin

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateIngress(o runtime.Object) field.ErrorList { return nil }

func validateIngressUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validateNetworkPolicy(o runtime.Object) field.ErrorList { return nil }

func validateNetworkPolicyUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validateEndpointSlice(o runtime.Object) field.ErrorList { return nil }

func validateEndpointSliceUpdate(o, old runtime.Object) field.ErrorList { return nil }
