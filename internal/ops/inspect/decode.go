package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/identify"
)

// Transformers choose the transformer that reads a resource's values: an
// encryptionconfig.Set.
type Transformers interface {
	TransformerForResource(gr schema.GroupResource) value.Transformer
}

// Decoder decrypts and decodes stored values.
type Decoder struct {
	// EtcdPrefix is --etcd-prefix ("/registry").
	EtcdPrefix string
	// Transformers decrypt; nil leaves encrypted values undecoded.
	Transformers Transformers
}

// Formats as Decoded.Format names them.
const (
	FormatProtobuf  = "protobuf"
	FormatJSON      = "json"
	FormatCBOR      = "cbor"
	FormatYAML      = "yaml"
	FormatEncrypted = "encrypted" // not decrypted: no key given, or it failed
	FormatUnknown   = "unknown"
)

// FormatOf names the format of a stored value from its first bytes
// (FormatEncrypted for a value an encryption provider wrote).
func FormatOf(data []byte) string {
	if identify.Of(data).Provider != identify.Identity {
		return FormatEncrypted
	}
	switch codec.DetectMediaType(data) {
	case codec.MediaTypeProtobuf:
		return FormatProtobuf
	case codec.MediaTypeJSON:
		return FormatJSON
	case codec.MediaTypeCBOR:
		return FormatCBOR
	case codec.MediaTypeYAML:
		return FormatYAML
	}
	return FormatUnknown
}

// Decoded is one stored value, decrypted and decoded as far as it could be.
type Decoded struct {
	Key string `json:"key"`
	// Resource is the resource the key belongs to ("pods",
	// "deployments.apps", "widgets.example.com"); "" for other keys.
	Resource  string `json:"resource,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Size      int    `json:"size"`
	// Encryption is the provider and key of the header ("identity",
	// "aescbc:key1", "kms-v2:vault"); KeyID the KMS v2 key ID.
	Encryption string `json:"encryption"`
	KeyID      string `json:"keyID,omitempty"`
	// Format is the format of the plain value (FormatEncrypted when it
	// could not be decrypted).
	Format string `json:"format"`
	// Object is the decoded object, as JSON would show it.
	Object map[string]any `json:"object,omitempty"`
	// Error says why the value is not decoded (no key, a bad value).
	Error string `json:"error,omitempty"`
	// Plain is the decrypted value (the stored value when not encrypted).
	Plain []byte `json:"-"`
	// Stored is the value as etcd holds it.
	Stored []byte `json:"-"`
}

// Decode decrypts (when d has the transformers and the value is
// encrypted) and decodes value, stored under key. It never fails: what it
// could not do is in Error.
func (d Decoder) Decode(ctx context.Context, key string, stored []byte) *Decoded {
	out := &Decoded{Key: key, Size: len(stored), Stored: stored}
	info := identify.Of(stored)
	out.Encryption, out.KeyID = info.String(), info.KeyID
	gr, parsed := schema.GroupResource{}, false
	if ki, err := builtin.ParseKey(d.EtcdPrefix, key); err == nil {
		gr, parsed = ki.Resource, true
		out.Resource, out.Namespace, out.Name = ki.Resource.String(), ki.Namespace, ki.Name
	}
	plain := stored
	if info.Provider != identify.Identity {
		out.Format = FormatEncrypted
		if d.Transformers == nil {
			out.Error = "encrypted with " + info.String() + ": pass --encryption-provider-config to decrypt"
			return out
		}
		if !parsed {
			out.Error = "encrypted, and the key names no resource to choose its provider by"
			return out
		}
		var err error
		plain, _, err = d.Transformers.TransformerForResource(gr).TransformFromStorage(ctx, stored, value.DefaultContext(key))
		if err != nil {
			out.Error = "decrypt: " + err.Error()
			return out
		}
	}
	out.Plain = plain
	out.Format = FormatOf(plain)
	obj, err := decodeObject(plain, out.Format)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Object = obj
	return out
}

var errNotObject = errors.New("not a Kubernetes object")

// decodeObject decodes a plain value: a built-in type through the scheme
// (whatever its format), anything else (custom resources, types the
// scheme lacks) as JSON, YAML or CBOR data.
func decodeObject(plain []byte, format string) (map[string]any, error) {
	obj, _, err := codec.Deserializer().Decode(plain, nil, nil)
	if err == nil {
		return toMap(obj)
	}
	switch format {
	case FormatJSON, FormatYAML:
		u := &unstructured.Unstructured{}
		if uerr := u.UnmarshalJSON(yamlToJSON(plain, format)); uerr != nil {
			return nil, fmt.Errorf("%w: %v", errNotObject, uerr)
		}
		return u.Object, nil
	case FormatCBOR:
		u := &unstructured.Unstructured{}
		s := cbor.NewSerializer(runtime.NewScheme(), runtime.NewScheme())
		if _, _, cerr := s.Decode(plain, nil, u); cerr != nil {
			return nil, fmt.Errorf("cbor: %v", cerr)
		}
		return u.Object, nil
	case FormatProtobuf:
		// A type the scheme lacks: show its envelope's type at least.
		return nil, fmt.Errorf("protobuf of a type regis does not know: %v", err)
	}
	return nil, fmt.Errorf("%w: %v", errNotObject, err)
}

func toMap(obj runtime.Object) (map[string]any, error) {
	if u, ok := obj.(runtime.Unstructured); ok {
		return u.UnstructuredContent(), nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return m, dec.Decode(&m)
}

func yamlToJSON(data []byte, format string) []byte {
	if format != FormatYAML {
		return data
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return data
	}
	return j
}

// plainFormat decrypts stored (under key) and names the plain value's
// format; FormatEncrypted and why when it cannot be decrypted.
func (d Decoder) plainFormat(ctx context.Context, key string, stored []byte) (string, string) {
	ki, err := builtin.ParseKey(d.EtcdPrefix, key)
	if err != nil {
		return FormatEncrypted, "the key names no resource to choose its provider by"
	}
	plain, _, err := d.Transformers.TransformerForResource(ki.Resource).TransformFromStorage(ctx, stored, value.DefaultContext(key))
	if err != nil {
		return FormatEncrypted, "decrypt: " + err.Error()
	}
	return FormatOf(plain), ""
}
