package apiserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const applyDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx}]
`

// TestKubectlServerSideApply applies twice, conflicts with another
// manager, forces, and diffs, as upstream answers kubectl.
func TestKubectlServerSideApply(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	file := filepath.Join(t.TempDir(), "web.yaml")
	cfg := func(n int) string {
		if err := os.WriteFile(file, []byte(strings.Replace(applyDeployment, "%d", string(rune('0'+n)), 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return ""
	}
	if out := k.ok(cfg(1), "apply", "--server-side", "-f", file); !strings.Contains(out, "deployment.apps/web serverside-applied") {
		t.Fatalf("first apply: %q", out)
	}
	if out := k.ok(cfg(1), "apply", "--server-side", "-f", file); !strings.Contains(out, "serverside-applied") {
		t.Fatalf("second apply: %q", out)
	}
	if _, errOut, err := k.run(cfg(2), "apply", "--server-side", "--field-manager", "other", "-f", file); err == nil ||
		!strings.Contains(err.Error()+errOut, `conflict with "kubectl"`) || !strings.Contains(err.Error()+errOut, ".spec.replicas") {
		t.Fatalf("conflicting apply: err %v, stderr %q", err, errOut)
	}
	k.ok(cfg(3), "apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", file)
	d, err := s.clientset(t).AppsV1().Deployments("default").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]string{}
	for _, e := range d.ManagedFields {
		managers[e.Manager] = string(e.Operation)
	}
	if *d.Spec.Replicas != 3 || managers["kubectl"] != "Apply" || managers["other"] != "Apply" {
		t.Fatalf("replicas %d, managers %v", *d.Spec.Replicas, managers)
	}
	out, _, _ := k.run(cfg(4), "diff", "--server-side", "--field-manager", "other", "-f", file)
	if !strings.Contains(out, "-  replicas: 3") || !strings.Contains(out, "+  replicas: 4") {
		t.Fatalf("diff: %q", out)
	}
}

// TestKubectlClientSideToServerSide applies client-side, then server-side:
// kubectl moves the fields kubectl-client-side-apply owned to its apply
// manager (csaupgrade), so that a field dropped from the manifest is
// then removed, as against kube-apiserver (oracle case "server-side
// apply takes over").
func TestKubectlClientSideToServerSide(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	file := filepath.Join(t.TempDir(), "cm.yaml")
	writeFile(t, file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: moved, namespace: default}\ndata: {a: '1', b: '2'}\n")
	k.ok("", "apply", "-f", file)
	writeFile(t, file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: moved, namespace: default}\ndata: {a: '1'}\n")
	if out := k.ok("", "apply", "--server-side", "-f", file); !strings.Contains(out, "configmap/moved serverside-applied") {
		t.Fatalf("server-side apply: %q", out)
	}
	cm, err := s.clientset(t).CoreV1().ConfigMaps("default").Get(context.Background(), "moved", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var managers []string
	for _, e := range cm.ManagedFields {
		managers = append(managers, e.Manager+"/"+string(e.Operation))
	}
	// kubectl-last-applied is kubectl keeping its annotation current.
	if strings.Join(managers, " ") != "kubectl-last-applied/Apply kubectl/Apply" {
		t.Errorf("managers %v, want the client-side manager's fields moved to kubectl/Apply", managers)
	}
	if _, ok := cm.Data["b"]; ok || cm.Data["a"] != "1" {
		t.Errorf("data %v: b, dropped from the manifest, should be gone", cm.Data)
	}
}
