package builtin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
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
		} else if len(registry.IsDNS1123Label(v.Name)) > 0 {
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
		p := func() *field.Path { return path.Index(i) } // for an error only
		if v.Ephemeral != nil && v.Ephemeral.VolumeClaimTemplate != nil && v.Name != "" && countSources(&v.VolumeSource) == 1 {
			claim := podName + "-" + v.Name
			for _, msg := range validateDNSSubdomain(claim) {
				errs = append(errs, field.Invalid(p().Child("name"), v.Name, fmt.Sprintf("PVC name %q: %v", claim, msg)))
			}
		}
		if v.PersistentVolumeClaim != nil && created.Has(v.PersistentVolumeClaim.ClaimName) {
			errs = append(errs, field.Invalid(p().Child("persistentVolumeClaim", "claimName"), v.PersistentVolumeClaim.ClaimName,
				"must not reference a PVC that gets created for an ephemeral volume"))
		}
	}
	return errs
}

// podSource is one source of a pod volume: the name upstream refuses a
// second source by, whether it is set, and its checks.
type podSource struct {
	name     string
	set      func(s *corev1.VolumeSource) bool
	validate func(s *corev1.VolumeSource, p *field.Path) field.ErrorList
}

// validateVolumeSource requires exactly one source, in upstream's order:
// the second and later ones set are refused by name.
func validateVolumeSource(s *corev1.VolumeSource, p *field.Path, volName string) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for i := range podSources {
		src := &podSources[i]
		if !src.set(s) {
			continue
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(src.name), "may not specify more than 1 volume type"))
		} else {
			n++
			errs = append(errs, src.validate(s, p)...)
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
	for i := range podSources {
		if podSources[i].set(s) {
			n++
		}
	}
	return n
}

// podSources are the sources of a pod volume, in upstream's order, as
// functions of the volume: checking a volume builds no table and no
// closure, and a source's field paths only when it is checked.
var podSources = [...]podSource{
	{"emptyDir", func(s *corev1.VolumeSource) bool { return s.EmptyDir != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateEmptyDir(s.EmptyDir, p.Child("emptyDir"))
		}},
	{"hostPath", func(s *corev1.VolumeSource) bool { return s.HostPath != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateHostPathSource(s.HostPath, p.Child("hostPath"))
		}},
	{"gitRepo", func(s *corev1.VolumeSource) bool { return s.GitRepo != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			errs := requireFields(p.Child("gitRepo"), "repository", s.GitRepo.Repository != "")
			return append(errs, validateLocalDescendingPath(s.GitRepo.Directory, p.Child("gitRepo", "directory"))...)
		}},
	{"gcePersistentDisk", func(s *corev1.VolumeSource) bool { return s.GCEPersistentDisk != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateDiskPartition(s.GCEPersistentDisk.PDName, "pdName", s.GCEPersistentDisk.Partition, p.Child("persistentDisk"))
		}},
	{"awsElasticBlockStore", func(s *corev1.VolumeSource) bool { return s.AWSElasticBlockStore != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateDiskPartition(s.AWSElasticBlockStore.VolumeID, "volumeID", s.AWSElasticBlockStore.Partition, p.Child("awsElasticBlockStore"))
		}},
	{"secret", func(s *corev1.VolumeSource) bool { return s.Secret != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateProjectedFiles(p.Child("secret"), "secretName", s.Secret.SecretName, s.Secret.DefaultMode, s.Secret.Items)
		}},
	{"nfs", func(s *corev1.VolumeSource) bool { return s.NFS != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList { return validateNFS(s.NFS, p.Child("nfs")) }},
	{"iscsi", func(s *corev1.VolumeSource) bool { return s.ISCSI != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateISCSIVolume(s.ISCSI, p.Child("iscsi"))
		}},
	{"glusterfs", func(s *corev1.VolumeSource) bool { return s.Glusterfs != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("glusterfs"), "endpoints", s.Glusterfs.EndpointsName != "", "path", s.Glusterfs.Path != "")
		}},
	{"flocker", func(s *corev1.VolumeSource) bool { return s.Flocker != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateFlocker(s.Flocker, p.Child("flocker"))
		}},
	{"persistentVolumeClaim", func(s *corev1.VolumeSource) bool { return s.PersistentVolumeClaim != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("persistentVolumeClaim"), "claimName", s.PersistentVolumeClaim.ClaimName != "")
		}},
	{"rbd", func(s *corev1.VolumeSource) bool { return s.RBD != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("rbd"), "monitors", len(s.RBD.CephMonitors) > 0, "image", s.RBD.RBDImage != "")
		}},
	{"cinder", func(s *corev1.VolumeSource) bool { return s.Cinder != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("cinder"), "volumeID", s.Cinder.VolumeID != "",
				"secretRef.name", s.Cinder.SecretRef == nil || s.Cinder.SecretRef.Name != "")
		}},
	// Upstream refuses a second source by "cephFS" and checks "cephfs".
	{"cephFS", func(s *corev1.VolumeSource) bool { return s.CephFS != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("cephfs"), "monitors", len(s.CephFS.Monitors) > 0)
		}},
	{"quobyte", func(s *corev1.VolumeSource) bool { return s.Quobyte != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateQuobyte(s.Quobyte, p.Child("quobyte"))
		}},
	// Upstream's typo.
	{"downwarAPI", func(s *corev1.VolumeSource) bool { return s.DownwardAPI != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateDownwardAPIFiles(s.DownwardAPI.DefaultMode, s.DownwardAPI.Items, p.Child("downwardAPI"), nil)
		}},
	{"fc", func(s *corev1.VolumeSource) bool { return s.FC != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList { return validateFC(s.FC, p.Child("fc")) }},
	{"flexVolume", func(s *corev1.VolumeSource) bool { return s.FlexVolume != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateFlexOptions(s.FlexVolume.Driver, s.FlexVolume.Options, p.Child("flexVolume"))
		}},
	{"configMap", func(s *corev1.VolumeSource) bool { return s.ConfigMap != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateProjectedFiles(p.Child("configMap"), "name", s.ConfigMap.Name, s.ConfigMap.DefaultMode, s.ConfigMap.Items)
		}},
	{"azureFile", func(s *corev1.VolumeSource) bool { return s.AzureFile != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("azureFile"), "secretName", s.AzureFile.SecretName != "", "shareName", s.AzureFile.ShareName != "")
		}},
	{"vsphereVolume", func(s *corev1.VolumeSource) bool { return s.VsphereVolume != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("vsphereVolume"), "volumePath", s.VsphereVolume.VolumePath != "")
		}},
	{"photonPersistentDisk", func(s *corev1.VolumeSource) bool { return s.PhotonPersistentDisk != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("photonPersistentDisk"), "pdID", s.PhotonPersistentDisk.PdID != "")
		}},
	{"portworxVolume", func(s *corev1.VolumeSource) bool { return s.PortworxVolume != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("portworxVolume"), "volumeID", s.PortworxVolume.VolumeID != "")
		}},
	{"azureDisk", func(s *corev1.VolumeSource) bool { return s.AzureDisk != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateAzureDisk(s.AzureDisk, p.Child("azureDisk"))
		}},
	{"storageos", func(s *corev1.VolumeSource) bool { return s.StorageOS != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateStorageOSVolume(s.StorageOS, p.Child("storageos"))
		}},
	{"projected", func(s *corev1.VolumeSource) bool { return s.Projected != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateProjected(s.Projected, p.Child("projected"))
		}},
	{"scaleIO", func(s *corev1.VolumeSource) bool { return s.ScaleIO != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return requireFields(p.Child("scaleIO"), "gateway", s.ScaleIO.Gateway != "",
				"system", s.ScaleIO.System != "", "volumeName", s.ScaleIO.VolumeName != "")
		}},
	{"csi", func(s *corev1.VolumeSource) bool { return s.CSI != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateCSIVolume(s.CSI, p.Child("csi"))
		}},
	{"ephemeral", func(s *corev1.VolumeSource) bool { return s.Ephemeral != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			if s.Ephemeral.VolumeClaimTemplate == nil {
				return field.ErrorList{field.Required(p.Child("ephemeral", "volumeClaimTemplate"), "")}
			}
			return validateClaimTemplate(s.Ephemeral.VolumeClaimTemplate, p.Child("ephemeral", "volumeClaimTemplate"))
		}},
	{"image", func(s *corev1.VolumeSource) bool { return s.Image != nil },
		func(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
			return validateImageVolume(s.Image, p.Child("image"))
		}},
}
