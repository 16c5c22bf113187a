package builtin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/regis-dev/regis/internal/registry"
)

// The ServiceAccount admission plugin's names (upstream's
// plugin/pkg/admission/serviceaccount).
const (
	DefaultServiceAccountName = "default"
	serviceAccountVolumeName  = "kube-api-access"
	defaultAPITokenMountPath  = "/var/run/secrets/kubernetes.io/serviceaccount"
	// warnOnlyBoundTokenExpirationSeconds is the projected token's
	// lifetime kubelets ask for.
	warnOnlyBoundTokenExpirationSeconds = 60*60 + 7
	// defaultServiceAccountAttempts and the retry interval are upstream's
	// live lookups of a default account the controller has not made yet.
	defaultServiceAccountAttempts = 10
)

// ServiceAccountAdmission is upstream's ServiceAccount admission plugin, a
// step of the admission chain (before the mutating webhooks, as upstream
// orders it). On the creation of a pod, its mutating half defaults
// spec.serviceAccountName to "default", refuses (403) an account that does
// not exist, mounts its token in every container as the
// kube-api-access-XXXXX projected volume unless automountServiceAccountToken
// (the pod's, else the account's) is false, and copies its image pull
// secrets when the pod names none; both halves then check what upstream's
// Validate checks (mirror pods reference no account or secret; an account
// annotated kubernetes.io/enforce-mountable-secrets limits the pod's, and
// its ephemeral containers', secrets to those it lists). The accounts are
// read from reg.
func ServiceAccountAdmission(reg *registry.Registry) registry.Admission {
	return serviceAccountPlugin{reg: reg}
}

type serviceAccountPlugin struct{ reg *registry.Registry }

var podsGR = schema.GroupResource{Resource: "pods"}

// Admit is upstream's Admit.
func (p serviceAccountPlugin) Admit(ctx context.Context, a *registry.Attributes) error {
	pod, ok := serviceAccountPod(a)
	if !ok || a.Operation != registry.OpCreate {
		return nil
	}
	if _, mirror := pod.Annotations[mirrorPodAnnotation]; !mirror {
		if err := admitPodServiceAccount(ctx, p.reg, a, pod); err != nil {
			return err
		}
	}
	return validatePodServiceAccount(ctx, p.reg, a, pod)
}

// Validate is upstream's Validate.
func (p serviceAccountPlugin) Validate(ctx context.Context, a *registry.Attributes) error {
	pod, ok := serviceAccountPod(a)
	if !ok {
		return nil
	}
	return validatePodServiceAccount(ctx, p.reg, a, pod)
}

func admitPodServiceAccount(ctx context.Context, reg *registry.Registry, a *registry.Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = pod.Spec.DeprecatedServiceAccount // upstream's v1 conversion
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
	}
	// Upstream's conversion to v1 writes the deprecated alias too.
	pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
	sa, err := serviceAccount(ctx, reg, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return AdmissionForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if automount(sa, pod) {
		mountServiceAccountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(sa.ImagePullSecrets))
		for i, s := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets[i].Name = s.Name
		}
	}
	return nil
}

// serviceAccount is upstream's getServiceAccount: the cache, then live
// reads, up to 10 of them 100-200 ms apart for the default account.
func serviceAccount(ctx context.Context, reg *registry.Registry, namespace, name string) (*corev1.ServiceAccount, error) {
	st, ok := reg.Lookup(corev1.SchemeGroupVersion.WithResource("serviceaccounts"))
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
	}
	obj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{ResourceVersion: "0"})
	if err == nil {
		return obj.(*corev1.ServiceAccount), nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	attempts := 1
	if name == DefaultServiceAccountName {
		attempts = defaultServiceAccountAttempts
	}
	retry := time.Duration(100+rand.IntN(100)) * time.Millisecond
	for i := range attempts {
		if i != 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(retry):
			}
		}
		obj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{})
		if err == nil {
			return obj.(*corev1.ServiceAccount), nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
}

// automount is upstream's shouldAutomount: the pod's choice, else the
// account's, else true.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountServiceAccountToken is upstream's: every init container and
// container without a mount at the token path mounts the token volume,
// added unless a kube-api-access-* volume is there.
func mountServiceAccountToken(pod *corev1.Pod) {
	name, has := "", false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, serviceAccountVolumeName+"-") {
			name, has = v.Name, true
			break
		}
	}
	if name == "" {
		name = serviceAccountVolumeName + "-" + utilrand.String(5)
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: defaultAPITokenMountPath}
	needs := false
	add := func(cs []corev1.Container) {
		for i := range cs {
			found := false
			for _, m := range cs[i].VolumeMounts {
				if m.MountPath == defaultAPITokenMountPath {
					found = true
					break
				}
			}
			if !found {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
				needs = true
			}
		}
	}
	add(pod.Spec.InitContainers)
	add(pod.Spec.Containers)
	if !has && needs {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: tokenVolumeSource()}})
	}
}

// tokenVolumeSource is upstream's TokenVolumeSource.
func tokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode, exp := corev1.ProjectedVolumeSourceDefaultMode, int64(warnOnlyBoundTokenExpirationSeconds)
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}
}
