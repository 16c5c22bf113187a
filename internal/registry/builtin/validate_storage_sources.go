package builtin

import (
	"maps"
	"net"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The volume sources of a persistent volume, as upstream's
// ValidatePersistentVolumeSpec checks them (k8s.io/kubernetes
// pkg/apis/core/validation, v1.37).

// pvSource is one volume source of a persistent volume: its field name,
// whether it is set, and its own checks.
type pvSource struct {
	name     string
	set      bool
	validate func() field.ErrorList
}

// validatePVSources requires exactly one volume source, in upstream's
// order: the second and later ones set are refused by name (a flex volume
// is always counted and checked, as upstream does).
func validatePVSources(s *corev1.PersistentVolumeSpec, pvName string, affinity bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for _, src := range pvSources(s, pvName, affinity, p) {
		if !src.set {
			continue
		}
		if n > 0 && src.name != "flexVolume" {
			errs = append(errs, field.Forbidden(p.Child(src.name), "may not specify more than 1 volume type"))
			continue
		}
		n++
		errs = append(errs, src.validate()...)
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a volume type"))
	}
	return errs
}

func pvSources(s *corev1.PersistentVolumeSpec, pvName string, affinity bool, p *field.Path) []pvSource {
	return []pvSource{
		{"hostPath", s.HostPath != nil, func() field.ErrorList { return validateHostPathSource(s.HostPath, p.Child("hostPath")) }},
		{"gcePersistentDisk", s.GCEPersistentDisk != nil, func() field.ErrorList {
			return validateDiskPartition(s.GCEPersistentDisk.PDName, "pdName", s.GCEPersistentDisk.Partition, p.Child("persistentDisk"))
		}},
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil, func() field.ErrorList {
			return validateDiskPartition(s.AWSElasticBlockStore.VolumeID, "volumeID", s.AWSElasticBlockStore.Partition, p.Child("awsElasticBlockStore"))
		}},
		{"glusterfs", s.Glusterfs != nil, func() field.ErrorList { return validateGlusterfsPV(s.Glusterfs, p.Child("glusterfs")) }},
		{"flocker", s.Flocker != nil, func() field.ErrorList { return validateFlocker(s.Flocker, p.Child("flocker")) }},
		{"nfs", s.NFS != nil, func() field.ErrorList { return validateNFS(s.NFS, p.Child("nfs")) }},
		{"rbd", s.RBD != nil, func() field.ErrorList {
			return requireFields(p.Child("rbd"), "monitors", len(s.RBD.CephMonitors) > 0, "image", s.RBD.RBDImage != "")
		}},
		{"quobyte", s.Quobyte != nil, func() field.ErrorList { return validateQuobyte(s.Quobyte, p.Child("quobyte")) }},
		{"cephFS", s.CephFS != nil, func() field.ErrorList {
			return requireFields(p.Child("cephfs"), "monitors", len(s.CephFS.Monitors) > 0)
		}},
		{"iscsi", s.ISCSI != nil, func() field.ErrorList { return validateISCSIPV(s.ISCSI, pvName, p.Child("iscsi")) }},
		{"cinder", s.Cinder != nil, func() field.ErrorList {
			errs := requireFields(p.Child("cinder"), "volumeID", s.Cinder.VolumeID != "")
			return append(errs, validateNamespacedSecretName(s.Cinder.SecretRef, p.Child("cinder", "secretRef"))...)
		}},
		{"fc", s.FC != nil, func() field.ErrorList { return validateFC(s.FC, p.Child("fc")) }},
		{"flexVolume", s.FlexVolume != nil, func() field.ErrorList {
			return validateFlexOptions(s.FlexVolume.Driver, s.FlexVolume.Options, p.Child("flexVolume"))
		}},
		{"azureFile", s.AzureFile != nil, func() field.ErrorList { return validateAzureFilePV(s.AzureFile, p.Child("azureFile")) }},
		{"vsphereVolume", s.VsphereVolume != nil, func() field.ErrorList {
			return requireFields(p.Child("vsphereVolume"), "volumePath", s.VsphereVolume.VolumePath != "")
		}},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil, func() field.ErrorList {
			return requireFields(p.Child("photonPersistentDisk"), "pdID", s.PhotonPersistentDisk.PdID != "")
		}},
		{"portworxVolume", s.PortworxVolume != nil, func() field.ErrorList {
			return requireFields(p.Child("portworxVolume"), "volumeID", s.PortworxVolume.VolumeID != "")
		}},
		{"azureDisk", s.AzureDisk != nil, func() field.ErrorList { return validateAzureDisk(s.AzureDisk, p.Child("azureDisk")) }},
		{"scaleIO", s.ScaleIO != nil, func() field.ErrorList {
			sio := s.ScaleIO
			return requireFields(p.Child("scaleIO"), "gateway", sio.Gateway != "", "system", sio.System != "", "volumeName", sio.VolumeName != "")
		}},
		{"local", s.Local != nil, func() field.ErrorList { return validateLocal(s.Local, affinity, p) }},
		{"storageos", s.StorageOS != nil, func() field.ErrorList { return validateStorageOSPV(s.StorageOS, p.Child("storageos")) }},
		{"csi", s.CSI != nil, func() field.ErrorList { return validateCSIPV(s.CSI, p.Child("csi")) }},
	}
}

// requireFields takes pairs of a field name and whether it is set, and
// requires each, in order.
func requireFields(p *field.Path, pairs ...any) field.ErrorList {
	var errs field.ErrorList
	for i := 0; i+1 < len(pairs); i += 2 {
		if !pairs[i+1].(bool) {
			errs = append(errs, field.Required(p.Child(pairs[i].(string)), ""))
		}
	}
	return errs
}

var supportedHostPathTypes = sets.New(corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev)

func validateHostPathSource(h *corev1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	if h.Path == "" {
		return field.ErrorList{field.Required(p.Child("path"), "")}
	}
	errs := validatePathNoBacksteps(h.Path, p.Child("path"))
	if h.Type != nil && !supportedHostPathTypes.Has(*h.Type) {
		errs = append(errs, field.NotSupported(p.Child("type"), *h.Type, sets.List(supportedHostPathTypes)))
	}
	return errs
}

// validatePathNoBacksteps refuses a path with a ".." element.
func validatePathNoBacksteps(target string, p *field.Path) field.ErrorList {
	for _, part := range strings.Split(filepath.ToSlash(target), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, target, "must not contain '..'")}
		}
	}
	return nil
}

// validateDiskPartition checks a GCE or AWS disk: its id, and a
// partition in [0, 255] (upstream's message says 1).
func validateDiskPartition(id, idName string, partition int32, p *field.Path) field.ErrorList {
	errs := requireFields(p, idName, id != "")
	if partition < 0 || partition > 255 {
		errs = append(errs, field.Invalid(p.Child("partition"), partition, validation.InclusiveRangeError(1, 255)))
	}
	return errs
}

func validateGlusterfsPV(g *corev1.GlusterfsPersistentVolumeSource, p *field.Path) field.ErrorList {
	errs := requireFields(p, "endpoints", g.EndpointsName != "", "path", g.Path != "")
	ns := g.EndpointsNamespace
	switch {
	case ns == nil:
	case *ns == "":
		errs = append(errs, field.Invalid(p.Child("endpointsNamespace"), *ns, "if the endpointnamespace is set, it must be a valid namespace name"))
	default:
		for _, msg := range apivalidation.ValidateNamespaceName(*ns, false) {
			errs = append(errs, field.Invalid(p.Child("endpointsNamespace"), *ns, msg))
		}
	}
	return errs
}

func validateFlocker(f *corev1.FlockerVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.DatasetName == "" && f.DatasetUUID == "" {
		errs = append(errs, field.Required(p, "one of datasetName and datasetUUID is required"))
	}
	if f.DatasetName != "" && f.DatasetUUID != "" {
		errs = append(errs, field.Invalid(p, "resource", "datasetName and datasetUUID can not be specified simultaneously"))
	}
	if strings.Contains(f.DatasetName, "/") {
		errs = append(errs, field.Invalid(p.Child("datasetName"), f.DatasetName, "must not contain '/'"))
	}
	return errs
}

func validateNFS(n *corev1.NFSVolumeSource, p *field.Path) field.ErrorList {
	errs := requireFields(p, "server", n.Server != "", "path", n.Path != "")
	if !path.IsAbs(n.Path) {
		errs = append(errs, field.Invalid(p.Child("path"), n.Path, "must be an absolute path"))
	}
	return errs
}

func validateQuobyte(q *corev1.QuobyteVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	const registryMsg = "must be a host:port pair or multiple pairs separated by commas"
	switch {
	case q.Registry == "":
		errs = append(errs, field.Required(p.Child("registry"), registryMsg))
	case len(q.Tenant) >= 65:
		errs = append(errs, field.Required(p.Child("tenant"), "must be a UUID and may not exceed a length of 64 characters"))
	default:
		for _, pair := range strings.Split(q.Registry, ",") {
			if _, _, err := net.SplitHostPort(pair); err != nil {
				errs = append(errs, field.Invalid(p.Child("registry"), q.Registry, registryMsg))
			}
		}
	}
	return append(errs, requireFields(p, "volume", q.Volume != "")...)
}

var (
	iscsiIQN = regexp.MustCompile(`iqn\.\d{4}-\d{2}\.([[:alnum:]-.]+)(:[^,;*&$|\s]+)$`)
	iscsiEUI = regexp.MustCompile(`^eui.[[:alnum:]]{16}$`)
	iscsiNAA = regexp.MustCompile(`^naa.[[:alnum:]]{32}$`)
)

// badISCSIName tells a name (IQN or initiator) that has none of the iqn,
// eui or naa prefixes, or does not match its prefix's format.
func badISCSIName(name string) (noPrefix, badFormat bool) {
	switch {
	case strings.HasPrefix(name, "iqn"):
		return false, !iscsiIQN.MatchString(name)
	case strings.HasPrefix(name, "eui"):
		return false, !iscsiEUI.MatchString(name)
	case strings.HasPrefix(name, "naa"):
		return false, !iscsiNAA.MatchString(name)
	}
	return true, false
}

func validateISCSIPV(s *corev1.ISCSIPersistentVolumeSource, pvName string, p *field.Path) field.ErrorList {
	errs := requireFields(p, "targetPortal", s.TargetPortal != "")
	if s.InitiatorName != nil && len(pvName+":"+s.TargetPortal) > 64 {
		errs = append(errs, field.Invalid(p.Child("targetportal"), s.TargetPortal,
			"Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified."))
	}
	if s.IQN == "" {
		errs = append(errs, field.Required(p.Child("iqn"), ""))
	} else if noPrefix, bad := badISCSIName(s.IQN); noPrefix || bad {
		errs = append(errs, field.Invalid(p.Child("iqn"), s.IQN, "must be valid format"))
	}
	if s.Lun < 0 || s.Lun > 255 {
		errs = append(errs, field.Invalid(p.Child("lun"), s.Lun, validation.InclusiveRangeError(0, 255)))
	}
	if (s.DiscoveryCHAPAuth || s.SessionCHAPAuth) && s.SecretRef == nil {
		errs = append(errs, field.Required(p.Child("secretRef"), ""))
	}
	if s.SecretRef != nil && s.SecretRef.Name == "" {
		errs = append(errs, field.Required(p.Child("secretRef", "name"), ""))
	}
	if s.InitiatorName != nil {
		if noPrefix, bad := badISCSIName(*s.InitiatorName); noPrefix || bad {
			errs = append(errs, field.Invalid(p.Child("initiatorname"), *s.InitiatorName, "must be valid format"))
		}
	}
	return errs
}

// validateNamespacedSecretName requires a set secret reference's name and
// namespace.
func validateNamespacedSecretName(ref *corev1.SecretReference, p *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	return requireFields(p, "name", ref.Name != "", "namespace", ref.Namespace != "")
}

func validateFC(fc *corev1.FCVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(fc.TargetWWNs) < 1 && len(fc.WWIDs) < 1 {
		errs = append(errs, field.Required(p.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
	}
	if len(fc.TargetWWNs) != 0 && len(fc.WWIDs) != 0 {
		errs = append(errs, field.Invalid(p.Child("targetWWNs"), fc.TargetWWNs, "targetWWNs and wwids can not be specified simultaneously"))
	}
	if len(fc.TargetWWNs) != 0 {
		if fc.Lun == nil {
			errs = append(errs, field.Required(p.Child("lun"), "lun is required if targetWWNs is specified"))
		} else if *fc.Lun < 0 || *fc.Lun > 255 {
			errs = append(errs, field.Invalid(p.Child("lun"), *fc.Lun, validation.InclusiveRangeError(0, 255)))
		}
	}
	return errs
}

// validateFlexOptions requires the driver and refuses options in the
// kubernetes.io and k8s.io namespaces.
func validateFlexOptions(driver string, options map[string]string, p *field.Path) field.ErrorList {
	errs := requireFields(p, "driver", driver != "")
	for _, k := range slices.Sorted(maps.Keys(options)) {
		namespace := k
		if parts := strings.SplitN(k, "/", 2); len(parts) == 2 {
			namespace = parts[0]
		}
		normalized := "." + strings.ToLower(namespace)
		if strings.HasSuffix(normalized, ".kubernetes.io") || strings.HasSuffix(normalized, ".k8s.io") {
			errs = append(errs, field.Invalid(p.Child("options").Key(k), k, "kubernetes.io and k8s.io namespaces are reserved"))
		}
	}
	return errs
}

func validateAzureFilePV(a *corev1.AzureFilePersistentVolumeSource, p *field.Path) field.ErrorList {
	errs := requireFields(p, "secretName", a.SecretName != "", "shareName", a.ShareName != "")
	if a.SecretNamespace != nil && *a.SecretNamespace == "" {
		errs = append(errs, field.Required(p.Child("secretNamespace"), ""))
	}
	return errs
}

var (
	azureCachingModes = sets.New(corev1.AzureDataDiskCachingNone, corev1.AzureDataDiskCachingReadOnly, corev1.AzureDataDiskCachingReadWrite)
	azureDiskKinds    = sets.New(corev1.AzureSharedBlobDisk, corev1.AzureDedicatedBlobDisk, corev1.AzureManagedDisk)
)

func validateAzureDisk(a *corev1.AzureDiskVolumeSource, p *field.Path) field.ErrorList {
	errs := requireFields(p, "diskName", a.DiskName != "", "diskURI", a.DataDiskURI != "")
	if a.CachingMode != nil && !azureCachingModes.Has(*a.CachingMode) {
		errs = append(errs, field.NotSupported(p.Child("cachingMode"), *a.CachingMode, sets.List(azureCachingModes)))
	}
	if a.Kind != nil && !azureDiskKinds.Has(*a.Kind) {
		errs = append(errs, field.NotSupported(p.Child("kind"), *a.Kind, sets.List(azureDiskKinds)))
	}
	if a.Kind != nil && *a.Kind == corev1.AzureManagedDisk && !strings.HasPrefix(a.DataDiskURI, "/subscriptions/") {
		errs = append(errs, field.NotSupported(p.Child("diskURI"), a.DataDiskURI,
			[]string{"/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"}))
	}
	if a.Kind != nil && *a.Kind != corev1.AzureManagedDisk && !strings.HasPrefix(a.DataDiskURI, "https://") {
		errs = append(errs, field.NotSupported(p.Child("diskURI"), a.DataDiskURI,
			[]string{"https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"}))
	}
	return errs
}

// validateLocal checks a local volume, which requires a node affinity.
func validateLocal(l *corev1.LocalVolumeSource, affinity bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if l.Path == "" {
		errs = append(errs, field.Required(p.Child("local", "path"), ""))
	} else {
		errs = append(errs, validatePathNoBacksteps(l.Path, p.Child("local", "path"))...)
	}
	if !affinity {
		errs = append(errs, field.Required(p.Child("nodeAffinity"), "Local volume requires node affinity"))
	}
	return errs
}

func validateStorageOSPV(s *corev1.StorageOSPersistentVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.VolumeName == "" {
		errs = append(errs, field.Required(p.Child("volumeName"), ""))
	} else {
		errs = append(errs, validateDNS1123Label(s.VolumeName, p.Child("volumeName"))...)
	}
	if s.VolumeNamespace != "" {
		errs = append(errs, validateDNS1123Label(s.VolumeNamespace, p.Child("volumeNamespace"))...)
	}
	if s.SecretRef != nil {
		errs = append(errs, requireFields(p.Child("secretRef"), "name", s.SecretRef.Name != "", "namespace", s.SecretRef.Namespace != "")...)
	}
	return errs
}

func validateDNS1123Label(value string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range registry.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

func validateCSIPV(c *corev1.CSIPersistentVolumeSource, p *field.Path) field.ErrorList {
	errs := validateCSIDriverName(c.Driver, p.Child("driver"))
	errs = append(errs, requireFields(p, "volumeHandle", c.VolumeHandle != "")...)
	refs := []struct {
		name string
		ref  *corev1.SecretReference
	}{
		{"controllerPublishSecretRef", c.ControllerPublishSecretRef},
		{"controllerExpandSecretRef", c.ControllerExpandSecretRef},
		{"nodePublishSecretRef", c.NodePublishSecretRef},
		{"nodeExpandSecretRef", c.NodeExpandSecretRef},
	}
	for _, r := range refs {
		if r.ref != nil {
			errs = append(errs, validatePVSecretReference(r.ref, p.Child(r.name))...)
		}
	}
	return errs
}

// validateCSIDriverName is upstream's ValidateCSIDriverName.
func validateCSIDriverName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	if len(name) > 63 {
		errs = append(errs, field.TooLong(p, "", 63))
	}
	for _, msg := range registry.IsDNS1123Subdomain(strings.ToLower(name)) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func validatePVSecretReference(ref *corev1.SecretReference, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range registry.IsDNS1123Subdomain(ref.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
		}
	}
	if ref.Namespace == "" {
		errs = append(errs, field.Required(p.Child("namespace"), ""))
	} else {
		errs = append(errs, validateDNS1123Label(ref.Namespace, p.Child("namespace"))...)
	}
	return errs
}
