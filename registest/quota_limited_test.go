package registest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

const limitedConfig = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ResourceQuota
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: ResourceQuotaConfiguration
    limitedResources:
    - resource: pods
      matchContains: [example.com/gpu]
`

// TestQuotaLimitedResources: with ResourceQuota's limitedResources, a pod
// requesting a limited resource is refused in a namespace whose quotas do
// not limit it (upstream's 403), and admitted once one does; a bad
// configuration stops the start.
func TestQuotaLimitedResources(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "admission.yaml")
	if err := os.WriteFile(cfg, []byte(limitedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := registest.Start(t.Context(), registest.Options{AdmissionControlConfigFile: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx, cs := t.Context(), kubernetes.NewForConfigOrDie(srv.Config())
	quotaNamespace(t, ctx, cs, "limited")
	gpu := func(name string) error {
		one := corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}
		_, err := cs.CoreV1().Pods("limited").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
				Resources: corev1.ResourceRequirements{Requests: one, Limits: one}}}}}, metav1.CreateOptions{})
		return err
	}
	err = gpu("refused")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "insufficient quota to consume: requests.example.com/gpu") {
		t.Fatalf("without a quota: %v", err)
	}
	if _, err := cs.CoreV1().ResourceQuotas("limited").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "gpu"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"requests.example.com/gpu": resource.MustParse("2")}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "limited", "gpu", nil)
	if err := gpu("admitted"); err != nil {
		t.Fatalf("with a quota: %v", err)
	}
	// The controller's status writes and the plugin's charges are
	// recorded as upstream's: kube-controller-manager's and
	// kube-apiserver's, through the status subresource.
	q, err := cs.CoreV1().ResourceQuotas("limited").Get(ctx, "gpu", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]bool{}
	for _, mf := range q.ManagedFields {
		if mf.Subresource == "status" && mf.Operation == metav1.ManagedFieldsOperationUpdate {
			managers[mf.Manager] = true
		}
	}
	if !managers["kube-controller-manager"] || !managers["kube-apiserver"] {
		t.Errorf("status managers %v, want kube-controller-manager and kube-apiserver", managers)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(limitedConfig, "resource: pods", "resource: \"\"", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := registest.Start(t.Context(), registest.Options{AdmissionControlConfigFile: bad}); err == nil {
		s.Stop()
		t.Fatal("a configuration without a resource was accepted")
	} else if !strings.Contains(err.Error(), `limitedResources[0].resource: Required value`) {
		t.Errorf("bad configuration: %v", err)
	}
}
