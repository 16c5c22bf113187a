package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/apimachinery/pkg/runtime/serializer/recognizer"
)

// factory holds the JSON, YAML, protobuf and CBOR serializers over Scheme.
// Serializers are stateless, so every codec shares them.
var factory = sync.OnceValue(func() serializer.CodecFactory {
	return serializer.NewCodecFactory(Scheme(), serializer.WithSerializer(cbor.NewSerializerInfo))
})

// New returns the storage codec of the resources stored at storageVersion, as
// kube-apiserver's NewStorageCodec builds it (apiserver/pkg/server/storage),
// with memory version = storage version.
//
// mediaType is the --storage-media-type value ("" means DefaultMediaType; see
// ValidateMediaType).
//
// Encode converts nothing: it takes the k8s.io/api type of storageVersion (a
// *corev1.Pod for v1) and serializes it with mediaType, apiVersion and kind
// set; an object of another group or version fails. Like apimachinery's
// versioning encoder it sets and then restores obj's apiVersion and kind, so
// one object must not be encoded from several goroutines at once.
//
// Decode accepts protobuf, JSON, YAML and CBOR whatever mediaType is (and, as
// upstream, base64 of any of them as a last resort) and returns the
// storageVersion type; into, if not nil, should be a zero value of that type
// (JSON decodes into existing maps and slices). It neither converts nor
// defaults. Decoded objects always have apiVersion and kind set. Errors say
// what the value looked like; the caller adds the key.
//
// The codec is safe for concurrent use.
func New(mediaType string, storageVersion schema.GroupVersion) (runtime.Codec, error) {
	mt, err := ValidateMediaType(mediaType)
	if err != nil {
		return nil, err
	}
	if storageVersion.Version == "" || !Scheme().IsVersionRegistered(storageVersion) {
		return nil, fmt.Errorf("codec: storage version %q is not a built-in group-version", storageVersion.String())
	}
	f := factory()
	info, ok := runtime.SerializerInfoForMediaType(f.SupportedMediaTypes(), mt)
	if !ok {
		return nil, fmt.Errorf("codec: no serializer for %q", mt) // every allowed value has one
	}
	universal := f.UniversalDeserializer()
	group := schema.GroupKind{Group: storageVersion.Group}
	return &codec{
		mediaType: mt,
		version:   storageVersion,
		enc:       f.EncoderForVersion(info.Serializer, runtime.NewMultiGroupVersioner(storageVersion, group)),
		allocates: allocates(info.Serializer),
		decoder: decoder{f.DecoderToVersion(
			recognizer.NewDecoder(info.Serializer, universal, runtime.NewBase64Serializer(nil, universal)),
			runtime.NewCoercingMultiGroupVersioner(storageVersion, group),
		)},
	}, nil
}

func allocates(s runtime.Serializer) bool {
	_, ok := s.(runtime.EncoderWithAllocator)
	return ok
}

// Deserializer returns a decoder for values of any built-in type, in any
// recognised format, at the version they were written: it neither converts nor
// defaults. It is what a tool that reads raw etcd values needs. Decoded objects
// have apiVersion and kind set, and errors are those of New's codecs.
func Deserializer() runtime.Decoder {
	universal := factory().UniversalDeserializer()
	return decoder{recognizer.NewDecoder(universal, runtime.NewBase64Serializer(nil, universal))}
}

// codec is a storage codec: an apimachinery versioning encoder and decoder
// pair, with clearer errors.
type codec struct {
	mediaType string
	version   schema.GroupVersion
	enc       runtime.Encoder
	allocates bool // the serializer takes an allocator (protobuf)
	decoder
}

// Encode writes obj at the codec's storage version and media type.
func (c *codec) Encode(obj runtime.Object, w io.Writer) error {
	if err := c.enc.Encode(obj, w); err != nil {
		return fmt.Errorf("encode %T to %s as %s: %w", obj, c.version, c.mediaType, err)
	}
	return nil
}

// EncodeWithAllocator is Encode through memory a gives: the protobuf
// serializer encodes into one slice of a, which it writes to w whole (a
// caller that owns a may keep it). Other formats ignore a.
func (c *codec) EncodeWithAllocator(obj runtime.Object, w io.Writer, a runtime.MemoryAllocator) error {
	ea, ok := c.enc.(runtime.EncoderWithAllocator)
	if !ok || !c.allocates {
		return c.Encode(obj, w)
	}
	if err := ea.EncodeWithAllocator(obj, w, a); err != nil {
		return fmt.Errorf("encode %T to %s as %s: %w", obj, c.version, c.mediaType, err)
	}
	return nil
}

// Identifier identifies the encoding (serializer and storage version), as
// runtime.CacheableObject implementations require.
func (c *codec) Identifier() runtime.Identifier { return c.enc.Identifier() }

// decoder wraps an apimachinery decoder to set the decoded object's type meta
// (the protobuf serializer leaves it empty when decoding into an object) and to
// describe undecodable values.
type decoder struct {
	dec runtime.Decoder
}

// Decode decodes data; see New and Deserializer.
func (d decoder) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := d.dec.Decode(data, defaults, into)
	if err != nil {
		return nil, gvk, decodeError(data, err)
	}
	if gvk != nil && obj.GetObjectKind().GroupVersionKind().Empty() {
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
	}
	return obj, gvk, nil
}

// decodeError wraps a serializer's error with what the value looked like,
// since messages such as "unexpected EOF" rarely say.
func decodeError(data []byte, err error) error {
	mt := DetectMediaType(data)
	switch {
	case len(data) == 0:
		return errors.New("decode: empty value")
	case bytes.HasPrefix(data, encryptedMagic):
		return fmt.Errorf("decode: value is encrypted at rest (prefix %q); it must be decrypted first", encryptionPrefix(data))
	case mt == "":
		// The error is the last resort's, base64, which says nothing useful.
		return fmt.Errorf("decode: value of %d bytes is not protobuf, JSON, YAML or CBOR (starts with % x)", len(data), head(data))
	}
	var b64 base64.CorruptInputError
	if mt == MediaTypeYAML && errors.As(err, &b64) {
		// Text that is neither JSON nor base64: the YAML decoder's error
		// says what is wrong with it.
		if _, _, yamlErr := yamlSerializer().Decode(data, nil, nil); yamlErr != nil {
			err = yamlErr
		}
	}
	return fmt.Errorf("decode: %s value of %d bytes: %w", mt, len(data), err)
}

// yamlSerializer returns the YAML serializer of factory.
func yamlSerializer() runtime.Serializer {
	info, _ := runtime.SerializerInfoForMediaType(factory().SupportedMediaTypes(), MediaTypeYAML)
	return info.Serializer
}

// encryptionPrefix returns the "k8s:enc:<provider>:<version>:<name>:" prefix
// of an encrypted value, or its first bytes if it is cut short.
func encryptionPrefix(data []byte) []byte {
	colons := 0
	for i, b := range data {
		if i == 64 {
			break
		}
		if b == ':' {
			if colons++; colons == 5 {
				return data[:i+1]
			}
		}
	}
	return head(data)
}

// head returns at most the first 16 bytes of data.
func head(data []byte) []byte {
	if len(data) > 16 {
		return data[:16]
	}
	return data
}
