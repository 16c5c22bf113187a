package builtin

import (
	"slices"
	"strings"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// storageCSIRows are the storage.k8s.io/v1 resources beyond storage
// classes. Upstream updates CSI drivers, CSI nodes, volume attachments and
// storage capacities only with a resourceVersion.
func storageCSIRows() []*registry.Resource {
	const g, v = "storage.k8s.io", "v1"
	return []*registry.Resource{
		{Group: g, Version: v, Resource: "csidrivers", Kind: "CSIDriver",
			New: newFn[storagev1.CSIDriver], NewList: newFn[storagev1.CSIDriverList], RequireResourceVersion: true,
			ReturnDeletedObject: true,
			Default:             defaultCSIDriver,
			PrepareForUpdate:    bumpGeneration(func(o runtime.Object) any { return o.(*storagev1.CSIDriver).Spec }),
			Columns:             csiDriverColumns,
			WarningsOnCreate:    csiDriverWarningsOnCreate, WarningsOnUpdate: csiDriverWarningsOnUpdate},
		{Group: g, Version: v, Resource: "csinodes", Kind: "CSINode",
			New: newFn[storagev1.CSINode], NewList: newFn[storagev1.CSINodeList], Status: true,
			RequireResourceVersion: true, ReturnDeletedObject: true, Columns: csiNodeColumns},
		{Group: g, Version: v, Resource: "volumeattachments", Kind: "VolumeAttachment",
			New: newFn[storagev1.VolumeAttachment], NewList: newFn[storagev1.VolumeAttachmentList], Status: true,
			RequireResourceVersion: true, ReturnDeletedObject: true, ValidateUpdate: validateVolumeAttachmentUpdate,
			Columns: volumeAttachmentColumns},
		{Group: g, Version: v, Resource: "csistoragecapacities", Kind: "CSIStorageCapacity", Namespaced: true,
			New: newFn[storagev1.CSIStorageCapacity], NewList: newFn[storagev1.CSIStorageCapacityList],
			RequireResourceVersion: true, Columns: createdAtColumns,
			WarningsOnCreate: csiStorageCapacityWarnings, WarningsOnUpdate: onUpdate(csiStorageCapacityWarnings)},
		{Group: g, Version: v, Resource: "volumeattributesclasses", Kind: "VolumeAttributesClass",
			ShortNames: []string{"vac"},
			New:        newFn[storagev1.VolumeAttributesClass], NewList: newFn[storagev1.VolumeAttributesClassList],
			ReturnDeletedObject: true, PrepareForCreate: protectVolumeAttributesClass,
			Validate: func(o runtime.Object) field.ErrorList {
				return requiredField(o.(*storagev1.VolumeAttributesClass).DriverName, field.NewPath("driverName"))
			},
			Columns: volumeAttributesClassColumns},
	}
}

// defaultCSIDriver is SetDefaults_CSIDriver with 1.37's feature gates
// (SELinuxMountReadWriteOncePod GA, VolumeLimitScaling beta, both on).
func defaultCSIDriver(o runtime.Object) {
	s := &o.(*storagev1.CSIDriver).Spec
	for _, f := range []struct {
		p   **bool
		def bool
	}{
		{&s.AttachRequired, true}, {&s.PodInfoOnMount, false}, {&s.StorageCapacity, false},
		{&s.RequiresRepublish, false}, {&s.SELinuxMount, false}, {&s.PreventPodSchedulingIfMissing, false},
	} {
		if *f.p == nil {
			*f.p = ptr(f.def)
		}
	}
	if s.FSGroupPolicy == nil {
		s.FSGroupPolicy = ptr(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy)
	}
	if len(s.VolumeLifecycleModes) == 0 {
		s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}
	}
}

// vacProtectionFinalizer is what the StorageObjectInUseProtection
// admission plugin adds to every new volume attributes class.
const vacProtectionFinalizer = "kubernetes.io/vac-protection"

func protectVolumeAttributesClass(o runtime.Object) {
	vac := o.(*storagev1.VolumeAttributesClass)
	if !slices.Contains(vac.Finalizers, vacProtectionFinalizer) {
		vac.Finalizers = append(vac.Finalizers, vacProtectionFinalizer)
	}
}

func validateVolumeAttachmentUpdate(o, old runtime.Object) field.ErrorList {
	return apivalidation.ValidateImmutableField(o.(*storagev1.VolumeAttachment).Spec, old.(*storagev1.VolumeAttachment).Spec,
		field.NewPath("spec"))
}

var csiDriverColumns = []registry.Column{
	{Name: "AttachRequired", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["attachRequired"],
		Cell: func(o runtime.Object) any { return derefOr(o.(*storagev1.CSIDriver).Spec.AttachRequired, true) }},
	{Name: "PodInfoOnMount", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["podInfoOnMount"],
		Cell: func(o runtime.Object) any { return derefOr(o.(*storagev1.CSIDriver).Spec.PodInfoOnMount, false) }},
	{Name: "StorageCapacity", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["storageCapacity"],
		Cell: func(o runtime.Object) any { return derefOr(o.(*storagev1.CSIDriver).Spec.StorageCapacity, false) }},
	{Name: "TokenRequests", Type: "string", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["tokenRequests"],
		Cell: func(o runtime.Object) any {
			trs := o.(*storagev1.CSIDriver).Spec.TokenRequests
			if trs == nil {
				return "<unset>"
			}
			auds := []string{}
			for _, t := range trs {
				auds = append(auds, t.Audience)
			}
			return strings.Join(auds, ",")
		}},
	{Name: "RequiresRepublish", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["requiresRepublish"],
		Cell: func(o runtime.Object) any { return derefOr(o.(*storagev1.CSIDriver).Spec.RequiresRepublish, false) }},
	{Name: "Modes", Type: "string", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["volumeLifecycleModes"],
		Cell: func(o runtime.Object) any {
			var modes []string
			for _, m := range o.(*storagev1.CSIDriver).Spec.VolumeLifecycleModes {
				modes = append(modes, string(m))
			}
			if len(modes) == 0 {
				return "<none>"
			}
			return strings.Join(modes, ",")
		}},
	registry.AgeColumn,
}

var csiNodeColumns = []registry.Column{
	{Name: "Drivers", Type: "integer", Description: "Drivers indicates the number of CSI drivers registered on the node",
		Cell: func(o runtime.Object) any { return int64(len(o.(*storagev1.CSINode).Spec.Drivers)) }},
	registry.AgeColumn,
}

var volumeAttachmentColumns = []registry.Column{
	{Name: "Attacher", Type: "string", Format: "name", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"],
		Cell: func(o runtime.Object) any { return o.(*storagev1.VolumeAttachment).Spec.Attacher }},
	{Name: "PV", Type: "string", Description: storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"],
		Cell: func(o runtime.Object) any {
			return derefOr(o.(*storagev1.VolumeAttachment).Spec.Source.PersistentVolumeName, "")
		}},
	{Name: "Node", Type: "string", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"],
		Cell: func(o runtime.Object) any { return o.(*storagev1.VolumeAttachment).Spec.NodeName }},
	{Name: "Attached", Type: "boolean", Description: storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"],
		Cell: func(o runtime.Object) any { return o.(*storagev1.VolumeAttachment).Status.Attached }},
	registry.AgeColumn,
}

// createdAtColumns are those of upstream's default table convertor, for
// the kinds kube-apiserver has no printer of (CSIStorageCapacities, whose
// printer it does not wire; CustomResourceDefinitions).
var createdAtColumns = []registry.Column{
	{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"],
		Cell: func(o runtime.Object) any {
			return o.(metav1.Object).GetCreationTimestamp().UTC().Format(time.RFC3339)
		}},
}

var volumeAttributesClassColumns = []registry.Column{
	{Name: "DriverName", Type: "string", Description: storagev1.VolumeAttributesClass{}.SwaggerDoc()["driverName"],
		Cell: func(o runtime.Object) any { return o.(*storagev1.VolumeAttributesClass).DriverName }},
	registry.AgeColumn,
}
