package kmsv2_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

// TestPluginOverGRPC: the provider talks to a plugin over the KMS v2 gRPC
// API on a unix socket, follows a key ID change by polling, and Close ends
// its goroutine and connection.
func TestPluginOverGRPC(t *testing.T) {
	plugin := kmsv2test.New("key-1")
	endpoint := kmsv2test.Serve(t, plugin)
	pl, err := kmsv2.Start(t.Context(), kmsv2.PluginConfig{
		Name: "p1", Endpoint: endpoint, Timeout: 5 * time.Second,
		PollInterval: 20 * time.Millisecond, RetryInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if err := pl.Healthy(t.Context()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	v := write(t, pl, "k8s\x00v", etcdKey)
	if got, stale := read(t, pl, v, etcdKey); got != "k8s\x00v" || stale {
		t.Fatalf("read: %q stale=%v", got, stale)
	}

	plugin.SetKeyID("key-2")
	deadline := time.Now().Add(10 * time.Second)
	for pl.KeyID() != "key-2" {
		if time.Now().After(deadline) {
			t.Fatal("the poller did not pick up the new key ID in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, stale := read(t, pl, v, etcdKey); !stale {
		t.Fatal("value under the old key ID is not stale")
	}
	// A fresh reader needs the plugin to decrypt the seed: over gRPC.
	other, err := kmsv2.Start(t.Context(), kmsv2.PluginConfig{Name: "p1", Endpoint: endpoint, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := read(t, other, v, etcdKey); got != "k8s\x00v" {
		t.Fatalf("fresh reader: %q", got)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPluginStartsLate: with no plugin yet, Start succeeds, writes wait,
// and the provider becomes usable once the plugin answers.
func TestPluginStartsLate(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "absent.sock")
	pl, err := kmsv2.Start(t.Context(), kmsv2.PluginConfig{
		Name: "p1", Endpoint: "unix://" + sock, Timeout: 100 * time.Millisecond,
		RetryInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if _, err := pl.TransformToStorage(t.Context(), []byte("x"), value.DefaultContext(etcdKey)); err == nil {
		t.Fatal("write with no plugin succeeded")
	}
	if err := pl.Healthy(t.Context()); err == nil {
		t.Fatal("Healthy with no plugin")
	}
}

func TestStartValidates(t *testing.T) {
	for _, cfg := range []kmsv2.PluginConfig{
		{Endpoint: "unix:///x"},
		{Name: "p"},
		{Name: "p", Endpoint: "tcp://x"},
	} {
		if pl, err := kmsv2.Start(t.Context(), cfg); err == nil {
			pl.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}
