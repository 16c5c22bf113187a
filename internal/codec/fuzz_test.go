package codec

import (
	"encoding/base64"
	"io"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// FuzzDecode feeds arbitrary bytes to the decoders: they may fail, never
// panic, and whatever they accept encodes again.
func FuzzDecode(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add(fx.bin)
		f.Add(fx.get)
	}
	for _, mt := range MediaTypes() {
		f.Add(encode(f, newCodec(f, mt, coreV1), testPod()))
	}
	pb := encode(f, newCodec(f, MediaTypeProtobuf, coreV1), testPod())
	f.Add([]byte(base64.StdEncoding.EncodeToString(pb)))
	for _, s := range []string{"", "k8s\x00", "k8s\x00\x0a\x00", "{", "{}", "\xd9\xd9\xf7", "\xd9\xd9\xf7\xa0", "kind: [", "k8s:enc:aescbc:v1:k:"} {
		f.Add([]byte(s))
	}

	protobuf := newCodec(f, MediaTypeProtobuf, coreV1)
	jsonCodec := newCodec(f, MediaTypeJSON, coreV1)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range []runtime.Decoder{protobuf, jsonCodec, Deserializer()} {
			obj, _, err := d.Decode(data, nil, nil)
			if err != nil {
				continue
			}
			// Re-encoding may fail (a value of another group), but must not panic.
			_ = protobuf.Encode(obj, io.Discard)
			_ = jsonCodec.Encode(obj, io.Discard)
		}
	})
}
