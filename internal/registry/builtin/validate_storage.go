package builtin

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validatePersistentVolume(o runtime.Object) field.ErrorList { return nil }

func validatePersistentVolumeUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validatePersistentVolumeClaim(o runtime.Object) field.ErrorList { return nil }

func validatePersistentVolumeClaimUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validateStorageClass(o runtime.Object) field.ErrorList { return nil }

func validateStorageClassUpdate(o, old runtime.Object) field.ErrorList { return nil }
