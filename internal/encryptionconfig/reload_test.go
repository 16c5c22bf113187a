package encryptionconfig_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value"
)

var (
	configKey1 = config(`
- resources: [secrets]
  providers: [{aescbc: {keys: [{name: key1, secret: ` + key32 + `}]}}]
`)
	configKey2 = config(`
- resources: [secrets]
  providers: [{aescbc: {keys: [{name: key2, secret: ` + key16 + `}, {name: key1, secret: ` + key32 + `}]}}]
`)
	configBad = config(`
- resources: [secrets]
  providers: [{aescbc: {keys: [{name: key3, secret: ` + key7 + `}]}}]
`)
)

// syncBuffer is a log sink the reloader may write from its goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type reloadFixture struct {
	path string
	tr   value.Transformer // what a store holds, built once
	d    *encryptionconfig.Transformers
	r    *encryptionconfig.Reloader
	reg  *prometheus.Registry
	log  *syncBuffer
}

func newReloadFixture(t *testing.T, initial string, interval time.Duration) *reloadFixture {
	t.Helper()
	f := &reloadFixture{path: filepath.Join(t.TempDir(), "encryption.yaml"), reg: prometheus.NewRegistry(), log: &syncBuffer{}}
	f.write(t, initial)
	set, err := encryptionconfig.Load(t.Context(), f.path, encryptionconfig.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.d = encryptionconfig.NewTransformers(set)
	f.tr = f.d.TransformerForResource(schema.GroupResource{Resource: "secrets"})
	m, err := encryptionconfig.NewMetrics(f.reg, "regis-test")
	if err != nil {
		t.Fatal(err)
	}
	f.r, err = encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{
		Path:         f.path,
		Transformers: f.d,
		Interval:     interval,
		Metrics:      m,
		Logger:       slog.New(slog.NewTextHandler(f.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.d.Current().Close() })
	return f
}

func (f *reloadFixture) write(t *testing.T, content string) {
	t.Helper()
	// Write and rename, as editors and kubelet's atomic writer do.
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		t.Fatal(err)
	}
}

func (f *reloadFixture) writePrefix(t *testing.T) string {
	t.Helper()
	out, err := f.tr.TransformToStorage(t.Context(), []byte("k8s\x00secret"), value.DefaultContext("/registry/secrets/ns/a"))
	if err != nil {
		t.Fatal(err)
	}
	return string(out[:len("k8s:enc:aescbc:v1:key1:")])
}

// reloads reads apiserver_encryption_config_controller_automatic_reloads_total{status}.
func (f *reloadFixture) reloads(t *testing.T, status string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "apiserver_encryption_config_controller_automatic_reloads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == status {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestReload(t *testing.T) {
	f := newReloadFixture(t, configKey1, time.Hour)
	ctx := t.Context()
	oldValue, _ := f.tr.TransformToStorage(ctx, []byte("k8s\x00old"), value.DefaultContext("/registry/secrets/ns/old"))

	if got := f.writePrefix(t); got != "k8s:enc:aescbc:v1:key1:" {
		t.Fatalf("before reload the store writes %q", got)
	}
	if applied, err := f.r.Check(ctx); applied || err != nil {
		t.Fatalf("Check of an unchanged file: applied=%v err=%v", applied, err)
	}

	t.Run("good change applies with no restart", func(t *testing.T) {
		f.write(t, configKey2)
		if applied, err := f.r.Check(ctx); !applied || err != nil {
			t.Fatalf("Check: applied=%v err=%v", applied, err)
		}
		if got := f.writePrefix(t); got != "k8s:enc:aescbc:v1:key2:" {
			t.Fatalf("after reload the store writes %q", got)
		}
		got, stale, err := f.tr.TransformFromStorage(ctx, oldValue, value.DefaultContext("/registry/secrets/ns/old"))
		if err != nil || !stale || string(got) != "k8s\x00old" {
			t.Fatalf("old value after reload: %q stale=%v err=%v; want it, stale", got, stale, err)
		}
		if n := f.reloads(t, "success"); n != 1 {
			t.Fatalf("success reloads = %v, want 1", n)
		}
	})

	t.Run("bad change is refused, logged, counted once", func(t *testing.T) {
		f.write(t, configBad)
		applied, err := f.r.Check(ctx)
		if applied || err == nil || !strings.Contains(err.Error(), "resources[0].providers[0].aescbc.keys[0].secret") {
			t.Fatalf("Check: applied=%v err=%v; want a refusal naming the field", applied, err)
		}
		if got := f.writePrefix(t); got != "k8s:enc:aescbc:v1:key2:" {
			t.Fatalf("after a refused reload the store writes %q", got)
		}
		if applied, err := f.r.Check(ctx); applied || err != nil {
			t.Fatalf("second Check of the same bad file: applied=%v err=%v", applied, err)
		}
		if n := f.reloads(t, "failure"); n != 1 {
			t.Fatalf("failure reloads = %v, want 1", n)
		}
		log := f.log.String()
		if !strings.Contains(log, "refused") || strings.Contains(log, key7) || strings.Contains(log, "shortkey") {
			t.Fatalf("log must show the refusal and no key material:\n%s", log)
		}
	})

	t.Run("metrics show the hash and key names, not material", func(t *testing.T) {
		f.write(t, configKey1)
		if applied, err := f.r.Check(ctx); !applied || err != nil {
			t.Fatalf("Check: applied=%v err=%v", applied, err)
		}
		var buf bytes.Buffer
		mfs, err := f.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			buf.WriteString(mf.String())
		}
		text := buf.String()
		hash := encryptionconfig.Hash([]byte(configKey1))
		for _, want := range []string{hash, `value:"key1"`, "regis_encryption_config_key_info"} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %q:\n%s", want, text)
			}
		}
		for _, never := range []string{key32, key16, `value:"key2"`, encryptionconfig.Hash([]byte(configKey2))} {
			if strings.Contains(text, never) {
				t.Errorf("metrics show %q:\n%s", never, text)
			}
		}
	})

	t.Run("missing file keeps the config", func(t *testing.T) {
		if err := os.Remove(f.path); err != nil {
			t.Fatal(err)
		}
		if _, err := f.r.Check(ctx); err == nil {
			t.Fatal("Check of a missing file: no error")
		}
		if got := f.writePrefix(t); got != "k8s:enc:aescbc:v1:key1:" {
			t.Fatalf("after a missing file the store writes %q", got)
		}
	})
}

// TestReloaderRun: the loop picks up a change by itself and stops with its
// context.
func TestReloaderRun(t *testing.T) {
	f := newReloadFixture(t, configKey1, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.r.Run(ctx) }()

	f.write(t, configKey2)
	deadline := time.Now().Add(10 * time.Second)
	for f.writePrefix(t) != "k8s:enc:aescbc:v1:key2:" {
		if time.Now().After(deadline) {
			t.Fatal("the reloader did not apply the change in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}

func TestNewReloaderValidates(t *testing.T) {
	if _, err := encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{}); err == nil {
		t.Fatal("NewReloader accepted an empty config")
	}
}
