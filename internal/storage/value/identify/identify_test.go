package identify_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/identify"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

func TestOf(t *testing.T) {
	p, err := kmsv2.New(kmsv2.Config{Name: "vault", Service: kmsv2test.New("key-7"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Probe(t.Context()); err != nil {
		t.Fatal(err)
	}
	kms, err := p.TransformToStorage(t.Context(), []byte("k8s\x00v"), value.DefaultContext("/k"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stored []byte
		want   identify.Info
	}{
		{name: "protobuf", stored: []byte("k8s\x00\x0a..."), want: identify.Info{Provider: "identity"}},
		{name: "json", stored: []byte(`{"kind":"Secret"}`), want: identify.Info{Provider: "identity"}},
		{name: "aescbc", stored: []byte("k8s:enc:aescbc:v1:key1:\x00\x01"), want: identify.Info{Provider: "aescbc", Key: "key1"}},
		{name: "kms v1", stored: []byte("k8s:enc:kms:v1:old:\x00\x10"), want: identify.Info{Provider: "kms-v1", Key: "old"}},
		{name: "kms v2", stored: append([]byte("k8s:enc:kms:v2:vault:"), kms...), want: identify.Info{Provider: "kms-v2", Key: "vault", KeyID: "key-7"}},
		{name: "unknown", stored: []byte("k8s:enc:rot13:v1:k:"), want: identify.Info{Provider: "unknown"}},
	}
	for _, tt := range tests {
		if got := identify.Of(tt.stored); got != tt.want {
			t.Errorf("%s: Of = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := identify.Of([]byte("k8s:enc:kms:v2:vault:garbage")); got.Err == nil {
		t.Error("a KMS v2 value that does not parse has no Err")
	}
}

// TestFixtures: the values a real kube-apiserver wrote are identified.
func TestFixtures(t *testing.T) {
	dir := "../../../../../shared/fixtures/kube-apiserver-v1.37.2/secrets"
	if _, err := os.Stat(dir); err != nil {
		dir = "/work/shared/fixtures/kube-apiserver-v1.37.2/secrets"
	}
	want := map[string]string{"aescbc": "aescbc:key1", "aesgcm": "aesgcm:key2", "secretbox": "secretbox:key3"}
	for p, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, "s-"+p+".etcd.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if got := identify.Of(b).String(); got != w {
			t.Errorf("%s fixture: %q, want %q", p, got, w)
		}
	}
}

func FuzzOf(f *testing.F) {
	f.Add([]byte("k8s:enc:kms:v2:vault:\x0a\x01x"))
	f.Fuzz(func(t *testing.T, data []byte) { _ = identify.Of(data).String() })
}
