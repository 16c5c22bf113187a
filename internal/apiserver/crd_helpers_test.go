package apiserver_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Helpers shared by the crd_*_test.go files.

// applyCRDFile writes a CRD's YAML to a file, applies it with kubectl and
// waits until gvr answers a list.
func applyCRDFile(t *testing.T, s *testServer, k *kubectl, name, yaml string, gvr schema.GroupVersionResource) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crd.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	k.ok("", "apply", "-f", path)
	waitEstablished(t, s, name, gvr)
}

// eventually calls f until it returns nil or 10 seconds have passed,
// and fails the test with f's last error then.
func eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// etcdPrefix is the etcd prefix startServer gave the test's server: the
// key of /registry/X is etcdPrefix(t)+"/X".
func etcdPrefix(t testing.TB) string {
	return "/" + strings.ReplaceAll(t.Name(), "/", "_")
}

// crObj parses a custom resource from JSON.
func crObj(t testing.TB, js string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(js), &u.Object); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return u
}

// statusCauses returns an API error's code and its causes as
// "field: message" lines.
func statusCauses(err error) (int32, []string) {
	se, ok := err.(apierrors.APIStatus)
	if !ok {
		return 0, nil
	}
	st := se.Status()
	var causes []string
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			causes = append(causes, c.Field+": "+c.Message)
		}
	}
	return st.Code, causes
}

// dyn is a dynamic client of a test server.
func dyn(t testing.TB, s *testServer) *dynamic.DynamicClient {
	t.Helper()
	dc, err := dynamic.NewForConfig(s.config)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// etcdValue reads the value stored at key (etcdPrefix of the test that
// started the server, then the key without /registry).
func etcdValue(t testing.TB, key string) []byte {
	t.Helper()
	resp, err := shared.Client(t).Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("nothing stored at %s", key)
	}
	return resp.Kvs[0].Value
}

// namesOf returns the names of a list's items, in order.
func namesOf(l *unstructured.UnstructuredList) []string {
	out := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		out = append(out, it.GetName())
	}
	return out
}

var listAll = metav1.ListOptions{}
