package apiserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The CRD and custom resource of the fixtures (what kube-apiserver
// stored for them is in ../codec/testdata/custom).
const (
	fixtureCRD = "../codec/testdata/custom/crd.yaml"
	fixtureCR  = "../codec/testdata/custom/customresource.yaml"
)

var widgets = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

// waitEstablished waits until a CRD is established and its resource
// answers a list.
func waitEstablished(t *testing.T, s *testServer, name string, gvr schema.GroupVersionResource) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(s.config)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := dc.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not served: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCustomResourceKubectl applies the fixtures' CRD and custom resource
// with kubectl and reads them back: established, pruned, defaulted.
func TestCustomResourceKubectl(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	k.ok("", "apply", "-f", fixtureCRD)
	waitEstablished(t, s, "widgets.example.com", widgets)
	k.ok("", "create", "namespace", "fx")
	k.ok("", "create", "--validate=false", "-f", fixtureCR)
	out := k.ok("", "get", "widgets", "-n", "fx")
	expectLines(t, "get widgets", out, "NAME   SIZE", "w1     3")
	out = k.ok("", "get", "wd", "w1", "-n", "fx", "-o", "jsonpath={.spec}")
	if out != `{"color":"red","size":3}` {
		t.Errorf("spec %s: want the unknown field pruned and the size defaulted", out)
	}
	if out := k.ok("", "get", "crd", "widgets.example.com", "-o", "jsonpath={.status.conditions[*].type}"); !strings.Contains(out, "Established") {
		t.Errorf("conditions %s", out)
	}
}
