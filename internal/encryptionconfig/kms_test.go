package encryptionconfig_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	upvalue "k8s.io/apiserver/pkg/storage/value"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

func kmsConfig(endpoint string) string {
	return config(`
- resources: [secrets]
  providers:
  - kms: {apiVersion: v2, name: vault, endpoint: "` + endpoint + `", timeout: 2s}
  - aescbc: {keys: [{name: key1, secret: ` + key32 + `}]}
  - identity: {}
`)
}

// TestKMSv2Config: a kms v2 entry connects to its plugin over its unix
// socket, writes k8s:enc:kms:v2:NAME: values bound to their etcd key, reads
// the older providers' values as stale, and reports health.
func TestKMSv2Config(t *testing.T) {
	endpoint := kmsv2test.Serve(t, kmsv2test.New("key-1"))
	cfg, err := encryptionconfig.Parse([]byte(kmsConfig(endpoint)))
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(t.Context(), cfg, "h", encryptionconfig.BuildOptions{
		KMSv2: encryptionconfig.KMSv2Plugins(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if err := set.Healthy(t.Context()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	tr := set.TransformerForResource(schema.GroupResource{Resource: "secrets"})
	dc := value.DefaultContext("/registry/secrets/ns/a")
	stored, err := tr.TransformToStorage(t.Context(), []byte("k8s\x00v"), dc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored, []byte("k8s:enc:kms:v2:vault:")) {
		t.Fatalf("stored value starts %q", stored[:24])
	}
	if got, stale, err := tr.TransformFromStorage(t.Context(), stored, dc); err != nil || stale || string(got) != "k8s\x00v" {
		t.Fatalf("read: %q stale=%v err=%v", got, stale, err)
	}
	if _, _, err := tr.TransformFromStorage(t.Context(), stored, value.DefaultContext("/registry/secrets/ns/moved")); err == nil {
		t.Fatal("a KMS v2 value moved to another etcd key decrypted")
	}
	if _, stale, err := tr.TransformFromStorage(t.Context(), []byte("k8s\x00plain"), dc); err != nil || !stale {
		t.Fatalf("plain value: stale=%v err=%v; want stale", stale, err)
	}
	keys := set.Keys()
	if len(keys) != 3 || keys[0] != (encryptionconfig.KeyInfo{Resource: "secrets", Provider: "kms", Key: "vault", Write: true}) {
		t.Fatalf("Keys() = %+v", keys)
	}
	if set.CloseGracePeriod() != 4*time.Second {
		t.Fatalf("CloseGracePeriod() = %v, want 2 × 2s", set.CloseGracePeriod())
	}
}

// TestReloadToKMS: a reload to a configuration whose plugin answers is
// applied; to one whose plugin does not, refused after the health wait.
func TestReloadToKMS(t *testing.T) {
	endpoint := kmsv2test.Serve(t, kmsv2test.New("key-1"))
	f := newReloadFixture(t, configKey1, time.Hour)
	r, err := encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{
		Path:          f.path,
		Transformers:  f.d,
		Build:         encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(slog.New(slog.DiscardHandler))},
		HealthTimeout: 300 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(f.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	absent := "unix://" + filepath.Join(t.TempDir(), "absent.sock")
	f.write(t, strings.Replace(kmsConfig(absent), "timeout: 2s", "timeout: 50ms", 1))
	if applied, err := r.Check(t.Context()); applied || err == nil {
		t.Fatalf("reload to an absent plugin: applied=%v err=%v", applied, err)
	}
	f.write(t, kmsConfig(endpoint))
	if applied, err := r.Check(t.Context()); !applied || err != nil {
		t.Fatalf("reload to a live plugin: applied=%v err=%v", applied, err)
	}
	out, err := f.tr.TransformToStorage(t.Context(), []byte("k8s\x00v"), value.DefaultContext("/registry/secrets/ns/a"))
	if err != nil || !bytes.HasPrefix(out, []byte("k8s:enc:kms:v2:vault:")) {
		t.Fatalf("after reload the store writes %q, %v", out[:min(len(out), 24)], err)
	}
}

// TestReloadWaitsForLatePlugin: content refused because its plugin was not
// up is applied at a later check once the plugin answers, counted once.
func TestReloadWaitsForLatePlugin(t *testing.T) {
	f := newReloadFixture(t, configKey1, time.Hour)
	r, err := encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{
		Path:          f.path,
		Transformers:  f.d,
		Build:         encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(slog.New(slog.DiscardHandler))},
		HealthTimeout: 200 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(f.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	plugin := kmsv2test.New("key-1")
	plugin.SetHealthz("starting")
	endpoint := kmsv2test.Serve(t, plugin)
	f.write(t, kmsConfig(endpoint))
	if applied, err := r.Check(t.Context()); applied || err == nil {
		t.Fatalf("reload to an unhealthy plugin: applied=%v err=%v", applied, err)
	}
	plugin.SetHealthz("ok")
	if applied, err := r.Check(t.Context()); !applied || err != nil {
		t.Fatalf("retry once the plugin is healthy: applied=%v err=%v", applied, err)
	}
	if n := strings.Count(f.log.String(), "refused"); n != 1 {
		t.Fatalf("refusal logged %d times, want 1:\n%s", n, f.log.String())
	}
}

// TestOracleKMSv2: under one configuration and one plugin, kube-apiserver's
// LoadEncryptionConfig reads what regis writes with KMS v2 and the other
// way round, each value bound to its etcd key.
func TestOracleKMSv2(t *testing.T) {
	endpoint := kmsv2test.Serve(t, kmsv2test.New("key-1"))
	data := []byte(kmsConfig(endpoint))
	ours := buildKMSSet(t, data)
	up, err := upstreamLoad(t, data)
	if err != nil {
		t.Fatal(err)
	}
	secrets := schema.GroupResource{Resource: "secrets"}
	const key = "/registry/secrets/ns/a"
	plain := []byte("k8s\x00secret")

	stored, err := ours.TransformerForResource(secrets).TransformToStorage(t.Context(), plain, value.DefaultContext(key))
	if err != nil {
		t.Fatal(err)
	}
	got, stale, err := up.TransformerForResource(secrets).TransformFromStorage(t.Context(), stored, upvalue.DefaultContext(key))
	if err != nil || stale || !bytes.Equal(got, plain) {
		t.Fatalf("upstream read of regis: %q stale=%v err=%v", got, stale, err)
	}
	if _, _, err := up.TransformerForResource(secrets).TransformFromStorage(t.Context(), stored, upvalue.DefaultContext(key+"-moved")); err == nil {
		t.Fatal("upstream read a moved value")
	}

	var upStored []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// Upstream writes once its first Status call has given a key ID.
		if upStored, err = up.TransformerForResource(secrets).TransformToStorage(t.Context(), plain, upvalue.DefaultContext(key)); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || !bytes.HasPrefix(upStored, []byte("k8s:enc:kms:v2:vault:")) {
		t.Fatalf("upstream write: %v", err)
	}
	got, stale, err = ours.TransformerForResource(secrets).TransformFromStorage(t.Context(), upStored, value.DefaultContext(key))
	if err != nil || stale || !bytes.Equal(got, plain) {
		t.Fatalf("regis read of upstream: %q stale=%v err=%v", got, stale, err)
	}
}

func buildKMSSet(t *testing.T, data []byte) *encryptionconfig.Set {
	t.Helper()
	cfg, err := encryptionconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(t.Context(), cfg, encryptionconfig.Hash(data), encryptionconfig.BuildOptions{
		KMSv2: encryptionconfig.KMSv2Plugins(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	return set
}
