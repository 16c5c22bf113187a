package inspect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/ops/inspect"
	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

var fixtures = fixturesDir("../../../../shared/fixtures/kube-apiserver-v1.37.2")

// fixturesDir is where the fixtures of a real kube-apiserver are: beside
// the project (rel), else $REGIS_FIXTURES or /work/shared/fixtures (a
// clone elsewhere, as CI's).
func fixturesDir(rel string) string {
	if d := os.Getenv("REGIS_FIXTURES"); d != "" {
		return filepath.Join(d, "kube-apiserver-v1.37.2")
	}
	if _, err := os.Stat(rel); err == nil {
		return rel
	}
	return "/work/shared/fixtures/kube-apiserver-v1.37.2"
}

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

var quiet = slog.New(slog.DiscardHandler)

func readFixture(t *testing.T, base string) (key string, stored []byte, want map[string]any) {
	t.Helper()
	k, err := os.ReadFile(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if stored, err = os.ReadFile(base + ".etcd.bin"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(base + ".get.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(k)), stored, want
}

func metaOf(m map[string]any) (kind, ns, name string) {
	md, _ := m["metadata"].(map[string]any)
	ns, _ = md["namespace"].(string)
	name, _ = md["name"].(string)
	kind, _ = m["kind"].(string)
	return
}

// TestDecodeKubeAPIServerObjects: every object a real kube-apiserver
// wrote (protobuf built-ins, a JSON CRD and a JSON custom resource)
// decodes to the object the API served.
func TestDecodeKubeAPIServerObjects(t *testing.T) {
	bins, _ := filepath.Glob(filepath.Join(fixtures, "objects", "*.etcd.bin"))
	if len(bins) < 10 {
		t.Fatalf("fixtures: %d objects", len(bins))
	}
	for _, bin := range bins {
		base := strings.TrimSuffix(bin, ".etcd.bin")
		if _, err := os.Stat(base + ".get.json"); err != nil {
			continue
		}
		t.Run(filepath.Base(base), func(t *testing.T) {
			key, stored, want := readFixture(t, base)
			d := inspect.Decoder{EtcdPrefix: "/registry"}.Decode(t.Context(), key, stored)
			if d.Error != "" || d.Object == nil {
				t.Fatalf("%s: %s", key, d.Error)
			}
			wk, wns, wn := metaOf(want)
			gk, gns, gn := metaOf(d.Object)
			if gk != wk || gns != wns || gn != wn {
				t.Fatalf("decoded %s %s/%s, the API served %s %s/%s", gk, gns, gn, wk, wns, wn)
			}
			if d.Resource == "" || d.Encryption != "identity" {
				t.Fatalf("resource %q encryption %q", d.Resource, d.Encryption)
			}
			segs := inspect.ExplainStored(stored)
			if d.Format == inspect.FormatProtobuf && (segs[0].Name != "magic" || !strings.Contains(segs[1].Note, "kind="+wk)) {
				t.Fatalf("envelope: %+v", segs)
			}
		})
	}
}

// TestDecodeKubeAPIServerSecrets: secrets a real kube-apiserver encrypted
// with aescbc, aesgcm and secretbox decrypt with its configuration, and
// without one say which key they need.
func TestDecodeKubeAPIServerSecrets(t *testing.T) {
	for _, p := range []struct{ provider, header string }{{"aescbc", "IV"}, {"aesgcm", "nonce"}, {"secretbox", "nonce"}} {
		t.Run(p.provider, func(t *testing.T) {
			key, stored, want := readFixture(t, filepath.Join(fixtures, "secrets", "s-"+p.provider))
			none := inspect.Decoder{EtcdPrefix: "/registry"}.Decode(t.Context(), key, stored)
			if none.Format != inspect.FormatEncrypted || !strings.Contains(none.Error, "--encryption-provider-config") || !strings.HasPrefix(none.Encryption, p.provider+":") {
				t.Fatalf("without keys: %+v", none)
			}
			set, err := encryptionconfig.Load(t.Context(), filepath.Join(fixtures, "secrets", "encryption-"+p.provider+".yaml"), encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(quiet)})
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			d := inspect.Decoder{EtcdPrefix: "/registry", Transformers: set}.Decode(t.Context(), key, stored)
			if d.Error != "" || d.Format != inspect.FormatProtobuf {
				t.Fatalf("decrypt: %+v", d)
			}
			if fmt.Sprint(d.Object["data"]) != fmt.Sprint(want["data"]) {
				t.Fatalf("data %v, want %v", d.Object["data"], want["data"])
			}
			var names []string
			for _, s := range inspect.ExplainStored(stored) {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, ","); got != "provider prefix,key name,"+p.header+",ciphertext" {
				t.Fatalf("envelope %s", got)
			}
		})
	}
}

// TestDecodeCBOR: values written with upstream's CBOR serializer, a pod
// and a custom resource, decode.
func TestDecodeCBOR(t *testing.T) {
	s := cbor.NewSerializer(clientgoscheme.Scheme, clientgoscheme.Scheme)
	var pod bytes.Buffer
	if err := s.Encode(&corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}, &pod); err != nil {
		t.Fatal(err)
	}
	var cr bytes.Buffer
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "ns"}, "spec": map[string]any{"size": int64(3)}}}
	if err := cbor.NewSerializer(runtime.NewScheme(), runtime.NewScheme()).Encode(u, &cr); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string][]byte{"/registry/pods/ns/p": pod.Bytes(), "/registry/example.com/widgets/ns/w": cr.Bytes()} {
		d := inspect.Decoder{EtcdPrefix: "/registry"}.Decode(t.Context(), key, v)
		if d.Error != "" || d.Format != inspect.FormatCBOR {
			t.Fatalf("%s: %+v", key, d)
		}
		if _, _, name := metaOf(d.Object); name != key[strings.LastIndex(key, "/")+1:] {
			t.Fatalf("%s: %v", key, d.Object)
		}
	}
}

// TestDecodeKMSv2: a value a KMS v2 provider wrote decrypts through the
// plugin's socket, from an EncryptionConfiguration file.
func TestDecodeKMSv2(t *testing.T) {
	endpoint := kmsv2test.Serve(t, kmsv2test.New("kek-1"))
	cfg := filepath.Join(t.TempDir(), "enc.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: vault, endpoint: \""+endpoint+"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Load(t.Context(), cfg, encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(quiet)})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	_, plain, _ := readFixture(t, filepath.Join(fixtures, "objects", "configmap"))
	key := "/registry/secrets/ns/s"
	gr := struct{ Group, Resource string }{"", "secrets"}
	stored, err := set.TransformerForResource(schemaGR(gr.Group, gr.Resource)).TransformToStorage(t.Context(), plain, value.DefaultContext(key))
	if err != nil {
		t.Fatal(err)
	}
	d := inspect.Decoder{EtcdPrefix: "/registry", Transformers: set}.Decode(t.Context(), key, stored)
	if d.Error != "" || d.KeyID != "kek-1" || d.Encryption != "kms-v2:vault" || d.Object["kind"] != "ConfigMap" {
		t.Fatalf("%+v", d)
	}
	var names []string
	for _, s := range inspect.ExplainStored(stored) {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "EncryptedObject.keyID") {
		t.Fatalf("envelope %s", got)
	}
}

func TestNormalizeKey(t *testing.T) {
	for in, want := range map[string]string{
		"/registry/nodes/n1":   "/registry/minions/n1",
		"nodes/n1":             "/registry/minions/n1",
		"/registry/nodes/":     "/registry/minions/",
		"/registry/nodesx/a":   "/registry/nodesx/a",
		"pods/default/p":       "/registry/pods/default/p",
		"/registry/minions/n2": "/registry/minions/n2",
	} {
		if got := inspect.NormalizeKey("/registry", in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func schemaGR(group, resource string) schema.GroupResource {
	return schema.GroupResource{Group: group, Resource: resource}
}
