package builtin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A pod's volumes, as upstream's ValidateVolumes and validateVolumeSource
// check them (k8s.io/kubernetes pkg/apis/core/validation, v1.37). The
// in-tree sources share their checks with persistent volumes
// (validate_storage_sources.go) where upstream does.

// validatePodVolumes is upstream's ValidateVolumes: each volume's source,
// then its name. It returns the names of the volumes without errors,
// which are all the containers' mounts may name.
func validatePodVolumes(vols []corev1.Volume, path *field.Path) (sets.Set[string], field.ErrorList) {
	valid := sets.New[string]()
	names := sets.New[string]()
	var errs field.ErrorList
	for i, v := range vols {
		p := path.Index(i)
		el := validateVolumeSource(&v.VolumeSource, p, v.Name)
		if v.Name == "" {
			el = append(el, field.Required(p.Child("name"), ""))
		} else {
			el = append(el, validateDNS1123Label(v.Name, p.Child("name"))...)
		}
		if names.Has(v.Name) {
			el = append(el, field.Duplicate(p.Child("name"), v.Name))
		}
		if len(el) == 0 {
			names.Insert(v.Name)
			valid.Insert(v.Name)
		}
		errs = append(errs, el...)
	}
	return valid, errs
}

// validatePodEphemeralClaims is what ValidateVolumes checks with the pod's
// name (a pod's, not a template's): the claim an ephemeral volume gets
// ("POD-VOLUME") has a valid name, and no volume names such a claim.
func validatePodEphemeralClaims(podName string, vols []corev1.Volume, path *field.Path) field.ErrorList {
	if podName == "" {
		return nil
	}
	created := sets.New[string]()
	for _, v := range vols {
		if v.Ephemeral != nil {
			created.Insert(podName + "-" + v.Name)
		}
	}
	var errs field.ErrorList
	for i, v := range vols {
		p := path.Index(i)
		if v.Ephemeral != nil && v.Ephemeral.VolumeClaimTemplate != nil && v.Name != "" && countSources(&v.VolumeSource) == 1 {
			claim := podName + "-" + v.Name
			for _, msg := range validateDNSSubdomain(claim) {
				errs = append(errs, field.Invalid(p.Child("name"), v.Name, fmt.Sprintf("PVC name %q: %v", claim, msg)))
			}
		}
		if v.PersistentVolumeClaim != nil && created.Has(v.PersistentVolumeClaim.ClaimName) {
			errs = append(errs, field.Invalid(p.Child("persistentVolumeClaim", "claimName"), v.PersistentVolumeClaim.ClaimName,
				"must not reference a PVC that gets created for an ephemeral volume"))
		}
	}
	return errs
}

// podSource is one source of a pod volume: the name upstream refuses a
// second source by, whether it is set, and its checks.
type podSource struct {
	name     string
	set      bool
	validate func() field.ErrorList
}

// validateVolumeSource requires exactly one source, in upstream's order:
// the second and later ones set are refused by name.
func validateVolumeSource(s *corev1.VolumeSource, p *field.Path, volName string) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for _, src := range podSources(s, p, volName) {
		if !src.set {
			continue
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(src.name), "may not specify more than 1 volume type"))
		} else {
			n++
			errs = append(errs, src.validate()...)
		}
		// Upstream checks an iSCSI volume's name whether or not it is the
		// only source.
		if src.name == "iscsi" && s.ISCSI.InitiatorName != nil && len(volName+":"+s.ISCSI.TargetPortal) > 64 {
			errs = append(errs, field.Invalid(p.Child("name"), volName,
				"Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified."))
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a volume type"))
	}
	return errs
}

func countSources(s *corev1.VolumeSource) int {
	n := 0
	for _, src := range podSources(s, nil, "") {
		if src.set {
			n++
		}
	}
	return n
}

func podSources(s *corev1.VolumeSource, p *field.Path, volName string) []podSource {
	required := func(child string, pairs ...any) func() field.ErrorList {
		return func() field.ErrorList { return requireFields(p.Child(child), pairs...) }
	}
	src := []podSource{
		{"emptyDir", s.EmptyDir != nil, func() field.ErrorList { return validateEmptyDir(s.EmptyDir, p.Child("emptyDir")) }},
		{"hostPath", s.HostPath != nil, func() field.ErrorList { return validateHostPathSource(s.HostPath, p.Child("hostPath")) }},
		{"gitRepo", s.GitRepo != nil, func() field.ErrorList {
			errs := requireFields(p.Child("gitRepo"), "repository", s.GitRepo.Repository != "")
			return append(errs, validateLocalDescendingPath(s.GitRepo.Directory, p.Child("gitRepo", "directory"))...)
		}},
		{"gcePersistentDisk", s.GCEPersistentDisk != nil, func() field.ErrorList {
			return validateDiskPartition(s.GCEPersistentDisk.PDName, "pdName", s.GCEPersistentDisk.Partition, p.Child("persistentDisk"))
		}},
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil, func() field.ErrorList {
			return validateDiskPartition(s.AWSElasticBlockStore.VolumeID, "volumeID", s.AWSElasticBlockStore.Partition, p.Child("awsElasticBlockStore"))
		}},
		{"secret", s.Secret != nil, func() field.ErrorList {
			return validateProjectedFiles(p.Child("secret"), "secretName", s.Secret.SecretName, s.Secret.DefaultMode, s.Secret.Items)
		}},
		{"nfs", s.NFS != nil, func() field.ErrorList { return validateNFS(s.NFS, p.Child("nfs")) }},
		{"iscsi", s.ISCSI != nil, func() field.ErrorList { return validateISCSIVolume(s.ISCSI, p.Child("iscsi")) }},
		{"glusterfs", s.Glusterfs != nil, required("glusterfs", "endpoints", s.Glusterfs != nil && s.Glusterfs.EndpointsName != "",
			"path", s.Glusterfs != nil && s.Glusterfs.Path != "")},
		{"flocker", s.Flocker != nil, func() field.ErrorList { return validateFlocker(s.Flocker, p.Child("flocker")) }},
		{"persistentVolumeClaim", s.PersistentVolumeClaim != nil, required("persistentVolumeClaim",
			"claimName", s.PersistentVolumeClaim != nil && s.PersistentVolumeClaim.ClaimName != "")},
		{"rbd", s.RBD != nil, required("rbd", "monitors", s.RBD != nil && len(s.RBD.CephMonitors) > 0, "image", s.RBD != nil && s.RBD.RBDImage != "")},
		{"cinder", s.Cinder != nil, required("cinder", "volumeID", s.Cinder != nil && s.Cinder.VolumeID != "",
			"secretRef.name", s.Cinder == nil || s.Cinder.SecretRef == nil || s.Cinder.SecretRef.Name != "")},
		// Upstream refuses a second source by "cephFS" and checks "cephfs".
		{"cephFS", s.CephFS != nil, required("cephfs", "monitors", s.CephFS != nil && len(s.CephFS.Monitors) > 0)},
		{"quobyte", s.Quobyte != nil, func() field.ErrorList { return validateQuobyte(s.Quobyte, p.Child("quobyte")) }},
		// Upstream's typo.
		{"downwarAPI", s.DownwardAPI != nil, func() field.ErrorList {
			return validateDownwardAPIFiles(s.DownwardAPI.DefaultMode, s.DownwardAPI.Items, p.Child("downwardAPI"), nil)
		}},
		{"fc", s.FC != nil, func() field.ErrorList { return validateFC(s.FC, p.Child("fc")) }},
		{"flexVolume", s.FlexVolume != nil, func() field.ErrorList {
			return validateFlexOptions(s.FlexVolume.Driver, s.FlexVolume.Options, p.Child("flexVolume"))
		}},
		{"configMap", s.ConfigMap != nil, func() field.ErrorList {
			return validateProjectedFiles(p.Child("configMap"), "name", s.ConfigMap.Name, s.ConfigMap.DefaultMode, s.ConfigMap.Items)
		}},
	}
	return append(src, podSourcesMore(s, p, required)...)
}

func podSourcesMore(s *corev1.VolumeSource, p *field.Path, required func(string, ...any) func() field.ErrorList) []podSource {
	return []podSource{
		{"azureFile", s.AzureFile != nil, required("azureFile", "secretName", s.AzureFile != nil && s.AzureFile.SecretName != "",
			"shareName", s.AzureFile != nil && s.AzureFile.ShareName != "")},
		{"vsphereVolume", s.VsphereVolume != nil, required("vsphereVolume", "volumePath", s.VsphereVolume != nil && s.VsphereVolume.VolumePath != "")},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil, required("photonPersistentDisk", "pdID",
			s.PhotonPersistentDisk != nil && s.PhotonPersistentDisk.PdID != "")},
		{"portworxVolume", s.PortworxVolume != nil, required("portworxVolume", "volumeID", s.PortworxVolume != nil && s.PortworxVolume.VolumeID != "")},
		{"azureDisk", s.AzureDisk != nil, func() field.ErrorList { return validateAzureDisk(s.AzureDisk, p.Child("azureDisk")) }},
		{"storageos", s.StorageOS != nil, func() field.ErrorList { return validateStorageOSVolume(s.StorageOS, p.Child("storageos")) }},
		{"projected", s.Projected != nil, func() field.ErrorList { return validateProjected(s.Projected, p.Child("projected")) }},
		{"scaleIO", s.ScaleIO != nil, required("scaleIO", "gateway", s.ScaleIO != nil && s.ScaleIO.Gateway != "",
			"system", s.ScaleIO != nil && s.ScaleIO.System != "", "volumeName", s.ScaleIO != nil && s.ScaleIO.VolumeName != "")},
		{"csi", s.CSI != nil, func() field.ErrorList { return validateCSIVolume(s.CSI, p.Child("csi")) }},
		{"ephemeral", s.Ephemeral != nil, func() field.ErrorList {
			if s.Ephemeral.VolumeClaimTemplate == nil {
				return field.ErrorList{field.Required(p.Child("ephemeral", "volumeClaimTemplate"), "")}
			}
			return validateClaimTemplate(s.Ephemeral.VolumeClaimTemplate, p.Child("ephemeral", "volumeClaimTemplate"))
		}},
		{"image", s.Image != nil, func() field.ErrorList { return validateImageVolume(s.Image, p.Child("image")) }},
	}
}
