package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
)

// NewCustom returns the storage codec of a custom resource, as
// apiextensions-apiserver's: JSON of the unstructured object (keys sorted,
// a newline at the end), written at storageVersion. With conversion None,
// as every CRD regis serves, converting between versions is changing
// apiVersion, which Encode does on a copy. Decode reads JSON, and CBOR as
// upstream's recognizer does, into *unstructured.Unstructured at the
// version stored.
func NewCustom(storageVersion schema.GroupVersion) runtime.Codec {
	return customCodec{version: storageVersion}
}

type customCodec struct {
	version schema.GroupVersion
}

var customCBOR = cbor.NewSerializer(unstructuredScheme{}, unstructuredScheme{})

// Encode writes obj (an *unstructured.Unstructured) at the storage version.
func (c customCodec) Encode(obj runtime.Object, w io.Writer) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("encode %T as a custom resource: not unstructured", obj)
	}
	shallow := make(map[string]any, len(u.Object))
	for k, v := range u.Object {
		shallow[k] = v
	}
	shallow["apiVersion"] = c.version.String()
	return unstructured.UnstructuredJSONScheme.Encode(&unstructured.Unstructured{Object: shallow}, w)
}

// Identifier names the encoding, as runtime.CacheableObject asks.
func (c customCodec) Identifier() runtime.Identifier {
	return runtime.Identifier("custom-json-" + c.version.String())
}

// Decode reads a stored custom resource.
func (c customCodec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if into == nil {
		into = &unstructured.Unstructured{}
	}
	var (
		obj runtime.Object
		gvk *schema.GroupVersionKind
		err error
	)
	switch {
	case bytes.HasPrefix(data, cborSelfDescribed):
		obj, gvk, err = customCBOR.Decode(data, defaults, into)
	case len(bytes.TrimSpace(data)) > 0 && bytes.TrimSpace(data)[0] == '{':
		obj, gvk, err = unstructured.UnstructuredJSONScheme.Decode(data, defaults, into)
	default:
		err = errors.New("a custom resource is stored as JSON or CBOR")
	}
	if err != nil {
		return nil, gvk, decodeError(data, err)
	}
	return obj, gvk, nil
}

// cborSelfDescribed starts every CBOR value upstream writes (tag 55799).
var cborSelfDescribed = []byte{0xd9, 0xd9, 0xf7}

// unstructuredScheme creates and types unstructured objects only, as the
// CBOR serializer needs to decode custom resources.
type unstructuredScheme struct{}

func (unstructuredScheme) New(kind schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(kind)
	return u, nil
}

func (unstructuredScheme) ObjectKinds(obj runtime.Object) ([]schema.GroupVersionKind, bool, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		return nil, false, runtime.NewMissingKindErr("object has no kind")
	}
	return []schema.GroupVersionKind{gvk}, false, nil
}

func (unstructuredScheme) Recognizes(schema.GroupVersionKind) bool { return true }
