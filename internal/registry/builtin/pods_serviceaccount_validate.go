package builtin

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/regis-dev/regis/internal/registry"
)

// serviceAccountPod returns the pod upstream's plugin looks at: pods and
// their ephemeralcontainers, nothing else (shouldIgnore).
func serviceAccountPod(a *registry.Attributes) (*corev1.Pod, bool) {
	if a.Resource.GroupResource() != podsGR || (a.Subresource != "" && a.Subresource != "ephemeralcontainers") {
		return nil, false
	}
	pod, ok := a.Object.(*corev1.Pod)
	return pod, ok
}

// validatePodServiceAccount is upstream's Validate: a mirror pod
// references no account, secret or token projection; another pod names an
// account that exists and, when the account enforces mountable secrets,
// only the secrets it lists; an ephemeral container, only those too.
func validatePodServiceAccount(ctx context.Context, reg *registry.Registry, a *registry.Attributes, pod *corev1.Pod) error {
	if a.Operation == registry.OpUpdate && a.Subresource == "ephemeralcontainers" {
		return limitEphemeralContainerSecretReferences(ctx, reg, a, pod)
	}
	if a.Operation != registry.OpCreate {
		return nil
	}
	if _, mirror := pod.Annotations[mirrorPodAnnotation]; mirror {
		if pod.Spec.ServiceAccountName != "" {
			return AdmissionForbidden(a, fmt.Errorf("a mirror pod may not reference service accounts"))
		}
		if podReferencesSecrets(pod) {
			return AdmissionForbidden(a, fmt.Errorf("a mirror pod may not reference secrets"))
		}
		for _, v := range pod.Spec.Volumes {
			if v.Projected == nil {
				continue
			}
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					return AdmissionForbidden(a, fmt.Errorf("a mirror pod may not use ServiceAccountToken volume projections"))
				}
			}
		}
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		return AdmissionForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.Namespace, pod.Name))
	}
	sa, err := serviceAccount(ctx, reg, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return AdmissionForbidden(a, fmt.Errorf("error looking up service account %s/%s: %v", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if enforcesMountableSecrets(sa) {
		if err := limitSecretReferences(sa, pod); err != nil {
			return AdmissionForbidden(a, err)
		}
	}
	return nil
}

// enforcesMountableSecrets tells whether the account limits the secrets
// its pods may reference to those it lists.
func enforcesMountableSecrets(sa *corev1.ServiceAccount) bool {
	v, ok := sa.Annotations[enforceMountableSecrets]
	if !ok {
		return false
	}
	b, _ := strconv.ParseBool(v)
	return b
}

func mountableSecrets(sa *corev1.ServiceAccount) map[string]bool {
	m := make(map[string]bool, len(sa.Secrets))
	for _, s := range sa.Secrets {
		m[s.Name] = true
	}
	return m
}

// containerSecretReference returns the first env or envFrom secret of c
// not in allowed, described as upstream's messages describe it.
func containerSecretReference(kind string, c *corev1.Container, allowed map[string]bool, sa string) error {
	for _, env := range c.Env {
		if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil && !allowed[env.ValueFrom.SecretKeyRef.Name] {
			return fmt.Errorf("%s %s with envVar %s referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret",
				kind, c.Name, env.Name, env.ValueFrom.SecretKeyRef.Name, sa)
		}
	}
	for _, from := range c.EnvFrom {
		if from.SecretRef != nil && !allowed[from.SecretRef.Name] {
			return fmt.Errorf("%s %s with envFrom referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret",
				kind, c.Name, from.SecretRef.Name, sa)
		}
	}
	return nil
}

// limitSecretReferences is upstream's: secret volumes, containers' secrets
// and image pull secrets must be the account's.
func limitSecretReferences(sa *corev1.ServiceAccount, pod *corev1.Pod) error {
	allowed := mountableSecrets(sa)
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && !allowed[v.Secret.SecretName] {
			return fmt.Errorf("volume with secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", v.Secret.SecretName, sa.Name)
		}
	}
	for i := range pod.Spec.InitContainers {
		if err := containerSecretReference("init container", &pod.Spec.InitContainers[i], allowed, sa.Name); err != nil {
			return err
		}
	}
	for i := range pod.Spec.Containers {
		if err := containerSecretReference("container", &pod.Spec.Containers[i], allowed, sa.Name); err != nil {
			return err
		}
	}
	pull := make(map[string]bool, len(sa.ImagePullSecrets))
	for _, s := range sa.ImagePullSecrets {
		pull[s.Name] = true
	}
	for i, ref := range pod.Spec.ImagePullSecrets {
		if !pull[ref.Name] {
			return fmt.Errorf(`imagePullSecrets[%d].name="%s" is not allowed because service account %s does not reference that imagePullSecret`, i, ref.Name, sa.Name)
		}
	}
	return nil
}

// limitEphemeralContainerSecretReferences is upstream's; its secret
// refusals are not 403s but plain errors, as upstream's.
func limitEphemeralContainerSecretReferences(ctx context.Context, reg *registry.Registry, a *registry.Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName == "" {
		return AdmissionForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.Namespace, pod.Name))
	}
	sa, err := serviceAccount(ctx, reg, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return AdmissionForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if !enforcesMountableSecrets(sa) {
		return nil
	}
	allowed := mountableSecrets(sa)
	for i := range pod.Spec.EphemeralContainers {
		c := corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		if err := containerSecretReference("ephemeral container", &c, allowed, sa.Name); err != nil {
			return err
		}
	}
	return nil
}

// podReferencesSecrets is upstream's VisitPodSecretNames finding a name:
// image pull secrets, the containers' env and envFrom, the volumes.
func podReferencesSecrets(pod *corev1.Pod) bool {
	for _, r := range pod.Spec.ImagePullSecrets {
		if r.Name != "" {
			return true
		}
	}
	refers := func(c *corev1.Container) bool {
		for _, env := range c.Env {
			if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil && env.ValueFrom.SecretKeyRef.Name != "" {
				return true
			}
		}
		for _, from := range c.EnvFrom {
			if from.SecretRef != nil && from.SecretRef.Name != "" {
				return true
			}
		}
		return false
	}
	for i := range pod.Spec.InitContainers {
		if refers(&pod.Spec.InitContainers[i]) {
			return true
		}
	}
	for i := range pod.Spec.Containers {
		if refers(&pod.Spec.Containers[i]) {
			return true
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		c := corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		if refers(&c) {
			return true
		}
	}
	for _, v := range pod.Spec.Volumes {
		if volumeSecretName(v.VolumeSource) != "" {
			return true
		}
	}
	return false
}

// volumeSecretName is the (first) secret a volume names, or "".
func volumeSecretName(s corev1.VolumeSource) string {
	ref := func(r *corev1.LocalObjectReference) string {
		if r == nil {
			return ""
		}
		return r.Name
	}
	switch {
	case s.AzureFile != nil:
		return s.AzureFile.SecretName
	case s.CephFS != nil:
		return ref(s.CephFS.SecretRef)
	case s.Cinder != nil:
		return ref(s.Cinder.SecretRef)
	case s.FlexVolume != nil:
		return ref(s.FlexVolume.SecretRef)
	case s.Projected != nil:
		for _, p := range s.Projected.Sources {
			if p.Secret != nil && p.Secret.Name != "" {
				return p.Secret.Name
			}
		}
	case s.RBD != nil:
		return ref(s.RBD.SecretRef)
	case s.Secret != nil:
		return s.Secret.SecretName
	case s.ScaleIO != nil:
		return ref(s.ScaleIO.SecretRef)
	case s.ISCSI != nil:
		return ref(s.ISCSI.SecretRef)
	case s.StorageOS != nil:
		if s.StorageOS.SecretRef != nil {
			return s.StorageOS.SecretRef.Name
		}
	case s.CSI != nil:
		return ref(s.CSI.NodePublishSecretRef)
	}
	return ""
}
