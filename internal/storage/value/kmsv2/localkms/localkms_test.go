package localkms_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kmsservice "k8s.io/kms/pkg/service"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/localkms"
)

func writeFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func newLine(t *testing.T) string {
	t.Helper()
	l, err := localkms.NewKeyFileLine()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	k1, k2 := newLine(t), newLine(t)
	writeFile(t, path, "# dev keys\n", k1)
	p, err := localkms.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := p.Status(ctx)
	if err != nil || st.Healthz != "ok" || st.Version != "v2" || !strings.HasPrefix(st.KeyID, "local-") {
		t.Fatalf("Status: %+v, %v", st, err)
	}
	if strings.Contains(st.KeyID, strings.TrimSpace(k1)) {
		t.Fatal("key ID shows the key")
	}
	enc, err := p.Encrypt(ctx, "uid", []byte("seed"))
	if err != nil {
		t.Fatal(err)
	}

	// Rotation: a new key first, the old one kept.
	time.Sleep(10 * time.Millisecond) // a new modification time on coarse clocks
	writeFile(t, path, k2, k1)
	st2, _ := p.Status(ctx)
	if st2.KeyID == st.KeyID {
		t.Fatal("key ID unchanged after rotation")
	}
	got, err := p.Decrypt(ctx, "uid", &kmsservice.DecryptRequest{Ciphertext: enc.Ciphertext, KeyID: enc.KeyID})
	if err != nil || string(got) != "seed" {
		t.Fatalf("Decrypt under the old key: %q, %v", got, err)
	}

	// A bad file is refused: the keys stay, Status says unhealthy.
	writeFile(t, path, "not a key\n")
	st3, err := p.Status(ctx)
	if err != nil || st3.Healthz == "ok" || st3.KeyID != st2.KeyID || strings.Contains(st3.Healthz, "not a key") {
		t.Fatalf("Status after a bad file: %+v, %v", st3, err)
	}
	if _, err := p.Decrypt(ctx, "uid", &kmsservice.DecryptRequest{Ciphertext: enc.Ciphertext, KeyID: "local-unknown"}); err == nil {
		t.Fatal("Decrypt with an unknown key ID succeeded")
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty":     "",
		"short key": "c2hvcnQ=\n",
		"twice":     "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=\nMDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := localkms.Open(path); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// TestServe: regis's KMS v2 provider works against the plugin over its
// socket, through a rotation by file change.
func TestServe(t *testing.T) {
	dir, err := os.MkdirTemp("", "lkms")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	keyFile, sock := filepath.Join(dir, "keys"), filepath.Join(dir, "kms.sock")
	k1 := newLine(t)
	writeFile(t, keyFile, k1)
	p, err := localkms.Open(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- localkms.Serve(ctx, sock, p) }()

	pl, err := kmsv2.Start(t.Context(), kmsv2.PluginConfig{
		Name: "local", Endpoint: "unix://" + sock, Timeout: 5 * time.Second,
		PollInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	dc := value.DefaultContext("/registry/secrets/ns/a")
	v, err := pl.TransformToStorage(ctx, []byte("k8s\x00v"), dc)
	if err != nil {
		t.Fatal(err)
	}
	first := pl.KeyID()
	time.Sleep(10 * time.Millisecond)
	writeFile(t, keyFile, newLine(t), k1)
	deadline := time.Now().Add(10 * time.Second)
	for pl.KeyID() == first {
		if time.Now().After(deadline) {
			t.Fatal("no rotation seen in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, stale, err := pl.TransformFromStorage(ctx, v, dc); err != nil || !stale || string(got) != "k8s\x00v" {
		t.Fatalf("read after rotation: %q stale=%v err=%v", got, stale, err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
}
