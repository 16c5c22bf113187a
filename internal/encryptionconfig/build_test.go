package encryptionconfig_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	upvalue "k8s.io/apiserver/pkg/storage/value"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value"
)

var wildcardConfig = config(`
- resources: [events]
  providers: [{identity: {}}]
- resources: [secrets, configmaps., pandas.awesome.bears.example]
  providers:
  - aesgcm: {keys: [{name: gcm1, secret: ` + key32 + `}, {name: gcm0, secret: ` + key16 + `}]}
  - aescbc: {keys: [{name: cbc1, secret: ` + key32 + `}]}
  - identity: {}
- resources: ['*.apps']
  providers: [{secretbox: {keys: [{name: box1, secret: ` + key32 + `}]}}]
- resources: ['*.']
  providers: [{aescbc: {keys: [{name: core1, secret: ` + key32 + `}]}}]
- resources: ['*.*']
  providers: [{aescbc: {keys: [{name: all1, secret: ` + key16 + `}]}}]
`)

// TestResolution: exact resource, then "*.group", then "*.*", as
// kube-apiserver resolves them; the prefix a write carries shows which rule
// applied.
func TestResolution(t *testing.T) {
	set := buildSet(t, []byte(wildcardConfig))
	tests := []struct {
		gr   schema.GroupResource
		want string
	}{
		{gr: schema.GroupResource{Resource: "secrets"}, want: "k8s:enc:aesgcm:v1:gcm1:"},
		{gr: schema.GroupResource{Resource: "configmaps"}, want: "k8s:enc:aesgcm:v1:gcm1:"},
		{gr: schema.GroupResource{Group: "awesome.bears.example", Resource: "pandas"}, want: "k8s:enc:aesgcm:v1:gcm1:"},
		{gr: schema.GroupResource{Resource: "events"}, want: "plain"},
		{gr: schema.GroupResource{Group: "apps", Resource: "deployments"}, want: "k8s:enc:secretbox:v1:box1:"},
		{gr: schema.GroupResource{Resource: "pods"}, want: "k8s:enc:aescbc:v1:core1:"},
		{gr: schema.GroupResource{Group: "batch", Resource: "jobs"}, want: "k8s:enc:aescbc:v1:all1:"},
		{gr: schema.GroupResource{Group: "new.crd.example", Resource: "widgets"}, want: "k8s:enc:aescbc:v1:all1:"},
	}
	for _, tt := range tests {
		t.Run(tt.gr.String(), func(t *testing.T) {
			got, err := set.TransformerForResource(tt.gr).TransformToStorage(t.Context(), []byte("plain"), value.DefaultContext("/registry/x"))
			if err != nil || !bytes.HasPrefix(got, []byte(tt.want)) {
				t.Fatalf("write: %q, %v; want prefix %q", got, err, tt.want)
			}
		})
	}
	var unset *encryptionconfig.Set
	if unset.TransformerForResource(schema.GroupResource{Resource: "secrets"}) != value.Identity {
		t.Fatal("a nil Set does not give identity")
	}
}

// TestOracleConfig: under the same configuration, what regis writes for a
// resource kube-apiserver reads, and the other way round, with the same
// staleness, for every provider and key of the chain.
func TestOracleConfig(t *testing.T) {
	ours := buildSet(t, []byte(wildcardConfig))
	up, err := upstreamLoad(t, []byte(wildcardConfig))
	if err != nil {
		t.Fatal(err)
	}
	// Each rotated configuration writes with another provider or key of
	// the chain; the original configuration must read it, stale.
	secretsWith := func(providers string) string {
		return config("- resources: [secrets]\n  providers:\n" + providers)
	}
	gcm1 := "  - aesgcm: {keys: [{name: gcm1, secret: " + key32 + "}]}\n"
	gcm0 := "  - aesgcm: {keys: [{name: gcm0, secret: " + key16 + "}]}\n"
	cbc1 := "  - aescbc: {keys: [{name: cbc1, secret: " + key32 + "}]}\n"
	rotations := map[string]string{
		"second key of the first provider": secretsWith(gcm0),
		"second provider":                  secretsWith(cbc1 + gcm1),
		"identity":                         secretsWith("  - identity: {}\n"),
	}
	grs := []schema.GroupResource{
		{Resource: "secrets"}, {Resource: "events"}, {Group: "apps", Resource: "deployments"},
		{Resource: "pods"}, {Group: "batch", Resource: "jobs"},
	}
	const etcdKey = "/registry/secrets/ns/a"
	plain := []byte("k8s\x00payload")
	for _, gr := range grs {
		t.Run(gr.String(), func(t *testing.T) {
			stored, err := ours.TransformerForResource(gr).TransformToStorage(t.Context(), plain, value.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			got, stale, err := up.TransformerForResource(gr).TransformFromStorage(t.Context(), stored, upvalue.DefaultContext(etcdKey))
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Fatalf("upstream read of ours: %q stale=%v err=%v", got, stale, err)
			}
			stored, err = up.TransformerForResource(gr).TransformToStorage(t.Context(), plain, upvalue.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			got, stale, err = ours.TransformerForResource(gr).TransformFromStorage(t.Context(), stored, value.DefaultContext(etcdKey))
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Fatalf("our read of upstream: %q stale=%v err=%v", got, stale, err)
			}
		})
	}
	secrets := schema.GroupResource{Resource: "secrets"}
	for name, rotated := range rotations {
		t.Run("stale "+name, func(t *testing.T) {
			r := buildSet(t, []byte(rotated))
			stored, err := r.TransformerForResource(secrets).TransformToStorage(t.Context(), plain, value.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			_, oursStale, oursErr := ours.TransformerForResource(secrets).TransformFromStorage(t.Context(), stored, value.DefaultContext(etcdKey))
			_, upStale, upErr := up.TransformerForResource(secrets).TransformFromStorage(t.Context(), stored, upvalue.DefaultContext(etcdKey))
			if oursErr != nil || upErr != nil || !oursStale || !upStale {
				t.Fatalf("read of %q: ours stale=%v err=%v, upstream stale=%v err=%v; want both stale", stored[:24], oursStale, oursErr, upStale, upErr)
			}
		})
	}
}

// TestReadErrors: a value the configuration cannot read says which key and
// provider it needs, never what it holds.
func TestReadErrors(t *testing.T) {
	set := buildSet(t, []byte(config(`
- resources: [secrets]
  providers: [{aescbc: {keys: [{name: key1, secret: `+key32+`}]}}]
`)))
	tr := set.TransformerForResource(schema.GroupResource{Resource: "secrets"})
	other := buildSet(t, []byte(config(`
- resources: [secrets]
  providers:
  - aescbc: {keys: [{name: key9, secret: `+key32+`}]}
`)))
	underKey9, _ := other.TransformerForResource(schema.GroupResource{Resource: "secrets"}).
		TransformToStorage(t.Context(), []byte("TOPSECRET"), value.DefaultContext("/k"))

	tests := []struct {
		name   string
		stored []byte
		want   []string
	}{
		{name: "missing key", stored: underKey9, want: []string{`"key9"`, "aescbc", `"key1"`}},
		{name: "missing provider", stored: []byte("k8s:enc:secretbox:v1:key3:TOPSECRET"),
			want: []string{"no matching prefix found", `"k8s:enc:secretbox:v1:key3:"`, "aescbc"}},
		{name: "plain value, no identity", stored: []byte("TOPSECRET"), want: []string{"not encrypted"}},
		{name: "corrupt", stored: []byte("k8s:enc:aescbc:v1:key1:TOPSECRET-TOPSECRET-TOPSECRET"),
			want: []string{`aescbc key "key1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tr.TransformFromStorage(t.Context(), tt.stored, value.DefaultContext("/k"))
			if err == nil {
				t.Fatal("read succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("error shows the stored value: %v", err)
			}
		})
	}
	if _, _, err := tr.TransformFromStorage(t.Context(), underKey9, value.DefaultContext("/k")); !errors.Is(err, value.ErrNoMatchingKey) {
		t.Errorf("missing key error %v is not value.ErrNoMatchingKey", err)
	}
}

func TestBuildRefusesKMS(t *testing.T) {
	for name, kms := range map[string]string{
		"v1":           "{kms: {name: p, endpoint: unix:///s}}",
		"v2 no dialer": "{kms: {apiVersion: v2, name: p, endpoint: unix:///s}}",
	} {
		cfg, err := encryptionconfig.Parse([]byte(config("- resources: [secrets]\n  providers: [" + kms + "]\n")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := encryptionconfig.Build(t.Context(), cfg, "", encryptionconfig.BuildOptions{}); err == nil {
			t.Errorf("%s: Build accepted kms", name)
		}
	}
}

func TestKeys(t *testing.T) {
	set := buildSet(t, []byte(config(`
- resources: [secrets, '*.apps']
  providers:
  - aesgcm: {keys: [{name: k2, secret: `+key32+`}, {name: k1, secret: `+key32+`}]}
  - identity: {}
`)))
	got := set.Keys()
	want := []encryptionconfig.KeyInfo{
		{Resource: "secrets", Provider: "aesgcm", Key: "k2", Write: true},
		{Resource: "secrets", Provider: "aesgcm", Key: "k1"},
		{Resource: "secrets", Provider: "identity"},
		{Resource: "*.apps", Provider: "aesgcm", Key: "k2", Write: true},
		{Resource: "*.apps", Provider: "aesgcm", Key: "k1"},
		{Resource: "*.apps", Provider: "identity"},
	}
	if len(got) != len(want) {
		t.Fatalf("Keys() = %+v\nwant %+v", got, want)
	}
	material, _ := base64.StdEncoding.DecodeString(key32)
	fp := encryptionconfig.Fingerprint("aesgcm", material)
	if len(fp) != 16 || strings.Contains(key32, fp) || fp == encryptionconfig.Fingerprint("aescbc", material) {
		t.Fatalf("Fingerprint = %q", fp)
	}
	for i := range want {
		if want[i].Provider == "aesgcm" {
			want[i].Fingerprint = fp
		}
		if got[i] != want[i] {
			t.Errorf("Keys()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestResourceInSeveralEntries: a resource named by two entries reads with
// the providers of both, in order, as kube-apiserver chains them.
func TestResourceInSeveralEntries(t *testing.T) {
	set := buildSet(t, []byte(config(`
- resources: [secrets]
  providers: [{aescbc: {keys: [{name: key1, secret: `+key32+`}]}}]
- resources: [secrets, configmaps]
  providers: [{identity: {}}]
`)))
	tr := set.TransformerForResource(schema.GroupResource{Resource: "secrets"})
	dc := value.DefaultContext("/registry/secrets/ns/a")
	stored, err := tr.TransformToStorage(t.Context(), []byte("k8s\x00v"), dc)
	if err != nil || !bytes.HasPrefix(stored, []byte("k8s:enc:aescbc:v1:key1:")) {
		t.Fatalf("write: %q, %v", stored, err)
	}
	if got, stale, err := tr.TransformFromStorage(t.Context(), []byte("k8s\x00plain"), dc); err != nil || !stale || string(got) != "k8s\x00plain" {
		t.Fatalf("plain value: %q stale=%v err=%v; want it, stale", got, stale, err)
	}
}

// TestAESGCMWrites: every value an aesgcm key encrypts is counted against
// that key (name and fingerprint), and nothing else is.
func TestAESGCMWrites(t *testing.T) {
	data := []byte(config(`
- resources: [secrets]
  providers:
  - aesgcm: {keys: [{name: k2, secret: ` + key32 + `}, {name: k1, secret: ` + key16 + `}]}
- resources: [configmaps]
  providers: [{aescbc: {keys: [{name: c1, secret: ` + key32 + `}]}}]
`))
	cfg, err := encryptionconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	set, err := encryptionconfig.Build(t.Context(), cfg, "h", encryptionconfig.BuildOptions{
		AESGCMWrites: func(name, fp string) func() {
			if fp == "" {
				t.Errorf("key %s without fingerprint", name)
			}
			return func() { counts[name]++ }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	dc := value.DefaultContext("/registry/secrets/ns/a")
	for range 3 {
		if _, err := set.TransformerForResource(schema.GroupResource{Resource: "secrets"}).TransformToStorage(t.Context(), []byte("v"), dc); err != nil {
			t.Fatal(err)
		}
		if _, err := set.TransformerForResource(schema.GroupResource{Resource: "configmaps"}).TransformToStorage(t.Context(), []byte("v"), dc); err != nil {
			t.Fatal(err)
		}
	}
	if len(counts) != 1 || counts["k2"] != 3 {
		t.Fatalf("counts = %v, want k2: 3", counts)
	}
}
