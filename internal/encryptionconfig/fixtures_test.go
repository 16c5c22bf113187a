package encryptionconfig_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value"
)

// fixtureDir holds secrets a real kube-apiserver v1.37.2 encrypted, the
// configurations it ran with, and their etcd keys.
const fixtureDir = "../../../shared/fixtures/kube-apiserver-v1.37.2/secrets"

type fixture struct {
	name     string // "aescbc"
	config   []byte // the configuration whose first provider wrote it
	stored   []byte // raw etcd value
	etcdKey  string
	wantJSON []byte // kubectl get -o json
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	dir := fixtureDir
	if d := os.Getenv("REGIS_FIXTURES"); d != "" {
		dir = filepath.Join(d, "kube-apiserver-v1.37.2/secrets")
	}
	if _, err := os.Stat(dir); err != nil {
		dir = "/work/shared/fixtures/kube-apiserver-v1.37.2/secrets"
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		return b
	}
	var out []fixture
	for _, p := range []string{"aescbc", "aesgcm", "secretbox"} {
		out = append(out, fixture{
			name:     p,
			config:   read("encryption-" + p + ".yaml"),
			stored:   read("s-" + p + ".etcd.bin"),
			etcdKey:  strings.TrimSpace(string(read("s-" + p + ".key"))),
			wantJSON: read("s-" + p + ".get.json"),
		})
	}
	return out
}

// checkSecret decodes plain as the protobuf Secret kube-apiserver stored
// and compares it with the fixture's kubectl output.
func checkSecret(t *testing.T, fx fixture, plain []byte) {
	t.Helper()
	if !bytes.HasPrefix(plain, []byte("k8s\x00")) {
		t.Fatalf("%s: plaintext does not start with the protobuf envelope: %q", fx.name, plain[:min(8, len(plain))])
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	obj, _, err := protobuf.NewSerializer(scheme, scheme).Decode(plain, nil, nil)
	if err != nil {
		t.Fatalf("%s: decode: %v", fx.name, err)
	}
	got := obj.(*corev1.Secret)
	var want corev1.Secret
	if err := json.Unmarshal(fx.wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.Namespace != want.Namespace || got.UID != want.UID ||
		!bytes.Equal(got.Data["password"], want.Data["password"]) {
		t.Fatalf("%s: decoded %s/%s uid %s password %q; want %s/%s uid %s password %q", fx.name,
			got.Namespace, got.Name, got.UID, got.Data["password"], want.Namespace, want.Name, want.UID, want.Data["password"])
	}
}

// TestFixtures: secrets encrypted by a real kube-apiserver decrypt with our
// providers under the configuration it ran with, and under the other
// fixture configurations (which list every key) as stale.
func TestFixtures(t *testing.T) {
	fxs := fixtures(t)
	secrets := schema.GroupResource{Resource: "secrets"}
	for _, cfgFx := range fxs {
		set := buildSet(t, cfgFx.config)
		for _, fx := range fxs {
			t.Run("config "+cfgFx.name+"/value "+fx.name, func(t *testing.T) {
				got, stale, err := set.TransformerForResource(secrets).TransformFromStorage(t.Context(), fx.stored, value.DefaultContext(fx.etcdKey))
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				checkSecret(t, fx, got)
				if want := fx.name != cfgFx.name; stale != want {
					t.Fatalf("stale = %v, want %v (config writes %s)", stale, want, cfgFx.name)
				}
			})
		}
	}
	t.Run("aesgcm fixture moved to another key", func(t *testing.T) {
		fx := fxs[1]
		set := buildSet(t, fx.config)
		_, _, err := set.TransformerForResource(secrets).TransformFromStorage(t.Context(), fx.stored, value.DefaultContext("/registry/secrets/fx/other"))
		if err == nil {
			t.Fatal("an aesgcm value read at another etcd key decrypted")
		}
	})
}

func buildSet(t testing.TB, config []byte) *encryptionconfig.Set {
	t.Helper()
	cfg, err := encryptionconfig.Parse(config)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	set, err := encryptionconfig.Build(t.Context(), cfg, encryptionconfig.Hash(config), encryptionconfig.BuildOptions{})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(set.Close)
	return set
}
