package apiserver_test

import (
	"bytes"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// kubectl runs kubectl in process against a test server.
type kubectl struct {
	t          *testing.T
	kubeconfig string
	cacheDir   string
}

// kubectlMu serializes kubectl runs: kubectl keeps process-wide state
// (its fatal-error hook, klog flags).
var kubectlMu sync.Mutex

func newKubectl(t *testing.T, s *testServer) *kubectl {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: regis
  cluster: {server: %q}
users:
- name: admin
  user: {}
contexts:
- name: regis
  context: {cluster: regis, user: admin}
current-context: regis
`, s.URL)
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &kubectl{t: t, kubeconfig: path, cacheDir: filepath.Join(dir, "cache")}
}

// fatal carries kubectl's fatal error out of its CheckErr.
type fatal struct {
	msg  string
	code int
}

// run runs kubectl with args and stdin, and returns what it printed on
// stdout and stderr, and its error (a fatal error's message).
func (k *kubectl) run(stdin string, args ...string) (stdout, stderr string, err error) {
	k.t.Helper()
	kubectlMu.Lock()
	defer kubectlMu.Unlock()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	args = append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)
	cmd := kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{
		Arguments:   append([]string{"kubectl"}, args...),
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   streams,
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(fatal{msg, code}) })
	defer cmdutil.DefaultBehaviorOnFatal()
	func() {
		defer func() {
			if p := recover(); p != nil {
				f, ok := p.(fatal)
				if !ok {
					panic(p)
				}
				err = fmt.Errorf("exit %d: %s", f.code, strings.TrimSpace(f.msg))
			}
		}()
		err = cmd.Execute()
	}()
	return out.String(), errOut.String(), err
}

// ok runs kubectl and fails the test on an error.
func (k *kubectl) ok(stdin string, args ...string) string {
	k.t.Helper()
	out, errOut, err := k.run(stdin, args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func expectLines(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: demo
data:
  mode: one
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: demo
  labels: {app: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: c
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: demo
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: 80}]
`

func TestKubectl(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)

	out := k.ok("", "get", "ns")
	expectLines(t, "get ns", out, "NAME", "STATUS", "AGE", "default", "Active", "kube-system", "kube-public", "kube-node-lease")

	expectLines(t, "create ns", k.ok("", "create", "ns", "demo"), "namespace/demo created")
	expectLines(t, "run", k.ok("", "run", "web", "-n", "demo", "--image=nginx", "--labels=app=web"), "pod/web created")
	expectLines(t, "create deployment", k.ok("", "create", "deployment", "d1", "-n", "demo", "--image=nginx", "--replicas=1"),
		"deployment.apps/d1 created")
	expectLines(t, "scale", k.ok("", "scale", "deployment", "d1", "-n", "demo", "--replicas=3"), "deployment.apps/d1 scaled")
	expectLines(t, "get deployment", k.ok("", "get", "deployment", "d1", "-n", "demo"), "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "0/3")
	expectLines(t, "create secret", k.ok("", "create", "secret", "generic", "s1", "-n", "demo", "--from-literal=k=v"), "secret/s1 created")
	expectLines(t, "create configmap", k.ok("", "create", "configmap", "c1", "-n", "demo", "--from-literal=a=b"), "configmap/c1 created")
	expectLines(t, "get secret", k.ok("", "get", "secret", "s1", "-n", "demo"), "TYPE", "Opaque", "DATA", "1")

	manifestFile := filepath.Join(t.TempDir(), "app.yaml")
	writeFile(t, manifestFile, manifest)
	expectLines(t, "apply", k.ok("", "apply", "-f", manifestFile),
		"configmap/app-config created", "deployment.apps/app created", "service/app created")
	writeFile(t, manifestFile, strings.Replace(manifest, "mode: one", "mode: two", 1))
	expectLines(t, "apply again", k.ok("", "apply", "-f", manifestFile),
		"configmap/app-config configured", "deployment.apps/app unchanged", "service/app unchanged")
	expectLines(t, "applied change", k.ok("", "get", "cm", "app-config", "-n", "demo", "-o", "jsonpath={.data.mode}"), "two")

	expectLines(t, "get -o yaml", k.ok("", "get", "pod", "web", "-n", "demo", "-o", "yaml"),
		"apiVersion: v1", "kind: Pod", "name: web", "imagePullPolicy: Always", "terminationMessagePath: /dev/termination-log")
	expectLines(t, "get -o json", k.ok("", "get", "svc", "app", "-n", "demo", "-o", "json"),
		`"kind": "Service"`, `"clusterIP": "10.0.0.`, `"targetPort": 80`)
	expectLines(t, "get -o wide", k.ok("", "get", "pods", "-n", "demo", "-o", "wide"),
		"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES", "web", "0/1", "Pending")
	expectLines(t, "get svc", k.ok("", "get", "svc", "-n", "demo"), "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "ClusterIP", "80/TCP")
	out = k.ok("", "get", "pods", "-n", "demo", "-l", "app=web")
	expectLines(t, "get -l", out, "web")
	out = k.ok("", "get", "pods", "-A", "--field-selector", "status.phase=Pending")
	expectLines(t, "get -A --field-selector", out, "NAMESPACE", "demo", "web")
	if _, _, err := k.run("", "get", "pods", "-A", "--field-selector", "spec.bogus=x"); err == nil {
		t.Errorf("an unknown field selector was accepted")
	}
	expectLines(t, "label", k.ok("", "label", "pod", "web", "-n", "demo", "tier=front"), "pod/web labeled")
	expectLines(t, "annotate", k.ok("", "annotate", "pod", "web", "-n", "demo", "note=hi"), "pod/web annotated")
	expectLines(t, "labels shown", k.ok("", "get", "pod", "web", "-n", "demo", "--show-labels"), "app=web,tier=front")

	expectLines(t, "patch merge", k.ok("", "patch", "cm", "c1", "-n", "demo", "--type", "merge", "-p", `{"data":{"x":"1"}}`), "configmap/c1 patched")
	expectLines(t, "patch json", k.ok("", "patch", "cm", "c1", "-n", "demo", "--type", "json", "-p", `[{"op":"replace","path":"/data/x","value":"2"}]`), "configmap/c1 patched")
	expectLines(t, "patch strategic", k.ok("", "patch", "deployment", "d1", "-n", "demo", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}`),
		"deployment.apps/d1 patched")
	expectLines(t, "patched image", k.ok("", "get", "deployment", "d1", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].image}"), "nginx:2")
	expectLines(t, "patched data", k.ok("", "get", "cm", "c1", "-n", "demo", "-o", "jsonpath={.data.x}"), "2")

	// get -w prints the current state, then changes, until its timeout.
	done := make(chan string)
	go func() {
		out, _, _ := k.run("", "get", "cm", "-n", "demo", "-w", "--request-timeout=2s")
		done <- out
	}()
	time.Sleep(500 * time.Millisecond) // kubectl holds kubectlMu: create with client-go
	if _, err := s.clientset(t).CoreV1().ConfigMaps("demo").Create(t.Context(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "watched"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		expectLines(t, "get -w", out, "app-config", "c1", "watched")
	case <-time.After(20 * time.Second):
		t.Fatal("kubectl get -w did not end")
	}

	expectLines(t, "delete", k.ok("", "delete", "pod", "web", "-n", "demo"), `pod "web" deleted`)
	out = k.ok("", "api-resources")
	expectLines(t, "api-resources", out, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND",
		"pods", "po", "deployments", "deploy", "apps/v1", "leases", "coordination.k8s.io/v1", "storageclasses")
	expectLines(t, "api-versions", k.ok("", "api-versions"), "v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "events.k8s.io/v1")

	expectLines(t, "delete ns", k.ok("", "delete", "ns", "demo"), `namespace "demo" deleted`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, errOut, err := k.run("", "get", "ns", "demo")
		if err != nil && strings.Contains(err.Error()+errOut, "not found") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace demo still there: %s %s %v", out, errOut, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _, _ = k.run("", "get", "all", "-n", "demo")
	if strings.Contains(out, "app") {
		t.Errorf("objects left in the deleted namespace:\n%s", out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
