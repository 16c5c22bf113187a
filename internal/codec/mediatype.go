package codec

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The storage media types, the values --storage-media-type accepts.
const (
	MediaTypeProtobuf = "application/vnd.kubernetes.protobuf"
	MediaTypeJSON     = "application/json"
	MediaTypeYAML     = "application/yaml"
	MediaTypeCBOR     = "application/cbor"

	// DefaultMediaType is kube-apiserver's default --storage-media-type.
	DefaultMediaType = MediaTypeProtobuf
)

// mediaTypes is the sorted list of values --storage-media-type accepts.
var mediaTypes = []string{MediaTypeCBOR, MediaTypeJSON, MediaTypeProtobuf, MediaTypeYAML}

// MediaTypes returns the values --storage-media-type accepts, sorted. The
// caller owns the returned slice.
func MediaTypes() []string { return append([]string(nil), mediaTypes...) }

// ValidateMediaType checks a --storage-media-type value and returns the media
// type to use: "" means DefaultMediaType. Parameters are not accepted (upstream
// compares the flag with the allowed values verbatim). The error text follows
// kube-apiserver's flag validation.
func ValidateMediaType(mediaType string) (string, error) {
	if mediaType == "" {
		return DefaultMediaType, nil
	}
	for _, mt := range mediaTypes {
		if mediaType == mt {
			return mt, nil
		}
	}
	return "", fmt.Errorf("--storage-media-type %q invalid, allowed values: %s", mediaType, strings.Join(mediaTypes, ", "))
}

// Magic prefixes that recognise a stored value's format.
var (
	protobufMagic  = []byte("k8s\x00")
	cborMagic      = []byte{0xd9, 0xd9, 0xf7} // self-described CBOR, tag 55799 (RFC 8949 §3.4.6)
	encryptedMagic = []byte("k8s:enc:")       // a value an encryption provider wrote
)

// DetectMediaType reports the format of a stored value from its first bytes:
// MediaTypeProtobuf for the "k8s\x00" envelope, MediaTypeCBOR for the
// self-described CBOR tag, MediaTypeJSON for a value starting with "{" (after
// white space), MediaTypeYAML for any other non-empty UTF-8 text, and "" for
// anything else (including values still encrypted at rest). It only looks at
// the value; it does not check that it decodes.
func DetectMediaType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, protobufMagic):
		return MediaTypeProtobuf
	case bytes.HasPrefix(data, cborMagic):
		return MediaTypeCBOR
	case bytes.HasPrefix(data, encryptedMagic):
		return ""
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return MediaTypeJSON
	case len(trimmed) > 0 && utf8.Valid(data) && !bytes.ContainsRune(data, 0):
		return MediaTypeYAML
	}
	return ""
}
