package builtin

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateNamespace(o runtime.Object) field.ErrorList { return nil }

func validateNamespaceUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validateNode(o runtime.Object) field.ErrorList { return nil }

func validateNodeUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validatePodDisruptionBudget(o runtime.Object) field.ErrorList { return nil }

func validatePodDisruptionBudgetUpdate(o, old runtime.Object) field.ErrorList { return nil }
