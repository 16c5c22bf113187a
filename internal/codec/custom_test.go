package codec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
)

// TestCustomResourceFixture decodes the custom resource kube-apiserver
// stored and encodes it again: the same bytes.
func TestCustomResourceFixture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "custom", "customresource.etcd.bin"))
	if err != nil {
		t.Fatal(err)
	}
	c := codec.NewCustom(schema.GroupVersion{Group: "example.com", Version: "v1"})
	obj, err := runtime.Decode(c, data)
	if err != nil {
		t.Fatal(err)
	}
	u := obj.(*unstructured.Unstructured)
	if u.GetName() != "w1" || u.GetKind() != "Widget" {
		t.Fatalf("decoded %v", u)
	}
	var buf bytes.Buffer
	if err := c.Encode(u, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("re-encoded:\n%s\nstored:\n%s", buf.Bytes(), data)
	}
	// Another served version is stored at the storage version.
	u.SetAPIVersion("example.com/v1beta1")
	buf.Reset()
	if err := c.Encode(u, &buf); err != nil || !bytes.Equal(buf.Bytes(), data) || u.GetAPIVersion() != "example.com/v1beta1" {
		t.Fatalf("encode of v1beta1: %v\n%s", err, buf.Bytes())
	}
	if _, err := runtime.Decode(c, []byte("k8s\x00junk")); err == nil {
		t.Fatal("protobuf decoded as a custom resource")
	}
}
