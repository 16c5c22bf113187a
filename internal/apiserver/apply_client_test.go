package apiserver_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

func deploymentConfig(name string, replicas int32) *appsv1ac.DeploymentApplyConfiguration {
	labels := map[string]string{"app": name}
	return appsv1ac.Deployment(name, "default").WithSpec(appsv1ac.DeploymentSpec().
		WithReplicas(replicas).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)).
		WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).
			WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("c").WithImage("nginx")))))
}

// TestClientGoApply applies typed apply configurations, as controllers
// written with client-go do, and extracts a manager's configuration
// back.
func TestClientGoApply(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := context.Background()
	opts := metav1.ApplyOptions{FieldManager: "ctrl"}
	cm, err := cs.CoreV1().ConfigMaps("default").Apply(ctx, corev1ac.ConfigMap("cfg", "default").WithData(map[string]string{"a": "1"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["a"] != "1" || len(cm.ManagedFields) != 1 || cm.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("configmap %+v", cm)
	}
	// Dropping a field from the configuration removes it.
	if cm, err = cs.CoreV1().ConfigMaps("default").Apply(ctx, corev1ac.ConfigMap("cfg", "default").WithData(map[string]string{"b": "2"}), opts); err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.Data["a"]; ok || cm.Data["b"] != "2" {
		t.Fatalf("data after the second apply: %v", cm.Data)
	}
	d, err := cs.AppsV1().Deployments("default").Apply(ctx, deploymentConfig("web", 2), opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appsv1ac.ExtractDeployment(d, "ctrl")
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Replicas != 2 || *got.Spec.Template.Spec.Containers[0].Image != "nginx" || got.Spec.Strategy != nil {
		t.Fatalf("extracted %+v", got.Spec)
	}
	// Another manager's update of a field it applied conflicts with a
	// second applier.
	if _, err := cs.AppsV1().Deployments("default").Apply(ctx, deploymentConfig("web", 3), metav1.ApplyOptions{FieldManager: "other"}); err == nil {
		t.Fatal("a conflicting apply succeeded")
	}
	// A client-side update records an Update.
	d.Spec.Replicas = ptr(int32(4))
	d.ManagedFields = nil
	if d, err = cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{FieldManager: "updater"}); err != nil {
		t.Fatal(err)
	}
	if !hasManager(d, "updater", metav1.ManagedFieldsOperationUpdate) {
		t.Fatalf("managedFields %+v", d.ManagedFields)
	}
}

func ptr[T any](v T) *T { return &v }

func hasManager(d *appsv1.Deployment, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, e := range d.ManagedFields {
		if e.Manager == manager && e.Operation == op {
			return true
		}
	}
	return false
}

// BenchmarkApplyVsUpdate compares a server-side apply of a deployment with
// an update of the same object.
func BenchmarkApplyVsUpdate(b *testing.B) {
	s := startServer(b)
	cs := s.clientset(b)
	ctx := context.Background()
	d, err := cs.AppsV1().Deployments("default").Apply(ctx, deploymentConfig("bench", 1), metav1.ApplyOptions{FieldManager: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("apply", func(b *testing.B) {
		for i := range b.N {
			if _, err := cs.AppsV1().Deployments("default").Apply(ctx, deploymentConfig("bench", int32(i%5)), metav1.ApplyOptions{FieldManager: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		for i := range b.N {
			d.Spec.Replicas = ptr(int32(i % 5))
			d.ResourceVersion = ""
			if d, err = cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{FieldManager: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
