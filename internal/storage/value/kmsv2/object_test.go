package kmsv2_test

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"

	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
)

func upstreamObject(o *kmsv2.EncryptedObject) *kmstypes.EncryptedObject {
	return &kmstypes.EncryptedObject{
		EncryptedData:          o.EncryptedData,
		KeyID:                  o.KeyID,
		EncryptedDEKSource:     o.EncryptedDEKSource,
		Annotations:            o.Annotations,
		EncryptedDEKSourceType: kmstypes.EncryptedDEKSourceType(o.SourceType),
	}
}

func testObjects() map[string]*kmsv2.EncryptedObject {
	return map[string]*kmsv2.EncryptedObject{
		"seed":       {EncryptedData: []byte("data"), KeyID: "key-1", EncryptedDEKSource: []byte("dek"), SourceType: kmsv2.SourceHKDFSeed},
		"legacy key": {EncryptedData: []byte("data"), KeyID: "key-1", EncryptedDEKSource: []byte("dek"), SourceType: kmsv2.SourceAESGCMKey},
		"annotations": {EncryptedData: bytes.Repeat([]byte{1}, 300), KeyID: "k", EncryptedDEKSource: []byte{0},
			Annotations: map[string][]byte{"a.example.com": []byte("1"), "b.example.com": {}, "c.example.com": []byte("three")},
			SourceType:  kmsv2.SourceHKDFSeed},
	}
}

// TestMarshalOracle: our encoding is byte for byte what proto.Marshal of
// kube-apiserver's generated EncryptedObject gives (deterministic map
// order), and what it gives decodes to the same object.
func TestMarshalOracle(t *testing.T) {
	for name, o := range testObjects() {
		t.Run(name, func(t *testing.T) {
			got, err := o.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(upstreamObject(o))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding:\n got %x\nwant %x", got, want)
			}
			back, err := kmsv2.UnmarshalEncryptedObject(want)
			if err != nil {
				t.Fatal(err)
			}
			if !equalObjects(back, o) {
				t.Fatalf("decoded %+v, want %+v", back, o)
			}
		})
	}
}

func equalObjects(a, b *kmsv2.EncryptedObject) bool {
	if !bytes.Equal(a.EncryptedData, b.EncryptedData) || a.KeyID != b.KeyID ||
		!bytes.Equal(a.EncryptedDEKSource, b.EncryptedDEKSource) || a.SourceType != b.SourceType ||
		len(a.Annotations) != len(b.Annotations) {
		return false
	}
	for k, v := range a.Annotations {
		w, ok := b.Annotations[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func TestValidate(t *testing.T) {
	ok := func() *kmsv2.EncryptedObject {
		return &kmsv2.EncryptedObject{EncryptedData: []byte("d"), KeyID: "k", EncryptedDEKSource: []byte("s"), SourceType: kmsv2.SourceHKDFSeed}
	}
	tests := []struct {
		name   string
		modify func(o *kmsv2.EncryptedObject)
		want   string
	}{
		{name: "unknown type", modify: func(o *kmsv2.EncryptedObject) { o.SourceType = 2 }, want: "unknown encryptedDEKSourceType"},
		{name: "no data", modify: func(o *kmsv2.EncryptedObject) { o.EncryptedData = nil }, want: "encrypted data is empty"},
		{name: "no DEK source", modify: func(o *kmsv2.EncryptedObject) { o.EncryptedDEKSource = nil }, want: "encrypted DEK source is empty"},
		{name: "DEK source too long", modify: func(o *kmsv2.EncryptedObject) { o.EncryptedDEKSource = make([]byte, 1025) }, want: "exceeds the max size of 1024"},
		{name: "no key ID", modify: func(o *kmsv2.EncryptedObject) { o.KeyID = "" }, want: "keyID is empty"},
		{name: "key ID too long", modify: func(o *kmsv2.EncryptedObject) { o.KeyID = strings.Repeat("k", 1025) }, want: "keyID is 1025 bytes"},
		{name: "annotation not a domain", modify: func(o *kmsv2.EncryptedObject) { o.Annotations = map[string][]byte{"nodots": nil} }, want: "annotations"},
		{name: "annotations too large", modify: func(o *kmsv2.EncryptedObject) {
			o.Annotations = map[string][]byte{"a.example.com": make([]byte, 32*1024)}
		}, want: "total size of annotations"},
	}
	for _, tt := range tests {
		o := ok()
		tt.modify(o)
		if _, err := o.Marshal(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Marshal error %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := ok().Marshal(); err != nil {
		t.Fatalf("valid object: %v", err)
	}
}

// FuzzUnmarshalEncryptedObject: arbitrary bytes never panic, and parse
// exactly as proto.Unmarshal of kube-apiserver's generated type parses them.
func FuzzUnmarshalEncryptedObject(f *testing.F) {
	for _, o := range testObjects() {
		b, _ := o.Marshal()
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0x01})
	f.Add([]byte{0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := kmsv2.UnmarshalEncryptedObject(data)
		var up kmstypes.EncryptedObject
		upErr := proto.Unmarshal(data, &up)
		if upErr != nil {
			if err == nil {
				t.Fatalf("we parse what proto.Unmarshal refuses (%v): %x", upErr, data)
			}
			return
		}
		want := &kmsv2.EncryptedObject{
			EncryptedData: up.EncryptedData, KeyID: up.KeyID, EncryptedDEKSource: up.EncryptedDEKSource,
			Annotations: up.Annotations, SourceType: kmsv2.SourceType(up.EncryptedDEKSourceType),
		}
		if wantErr := want.Validate(); (wantErr == nil) != (err == nil) {
			t.Fatalf("ours: %v; proto.Unmarshal then validation: %v; data %x", err, wantErr, data)
		}
		if err == nil && !equalObjects(got, want) {
			t.Fatalf("ours %+v, proto.Unmarshal %+v", got, want)
		}
	})
}
