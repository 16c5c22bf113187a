package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/server"
)

// runUntil runs server.Run with opts; serve runs as Options.Serve and the
// server is shut down when serve returns, as a signal would. It returns
// Run's error.
func runUntil(t *testing.T, opts server.Options, serve func(ctx context.Context, b *server.Backend)) error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opts.Logger = testLogger(t)
	opts.Serve = func(sctx context.Context, b *server.Backend) error {
		serve(sctx, b)
		cancel() // the shutdown signal
		<-sctx.Done()
		return sctx.Err()
	}
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, opts) }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestRunEmbeddedServesAndStopsCleanly(t *testing.T) {
	before := etcdtest.SnapshotGoroutines()
	opts := server.DefaultOptions()
	opts.DataDir = filepath.Join(t.TempDir(), "regis-data")
	opts.EtcdCompactionInterval = 50 * time.Millisecond
	served := false
	err := runUntil(t, opts, func(ctx context.Context, b *server.Backend) {
		served = true
		// The server's own client reaches the member over its socket.
		if b.Embedded == nil || len(b.Endpoints) != 1 || b.Embedded.LocalEndpoint == "" || b.Endpoints[0] != b.Embedded.LocalEndpoint {
			t.Errorf("embedded etcd %v, endpoints %v", b.Embedded, b.Endpoints)
		}
		if b.Prefix != "/registry" || b.MediaType != server.MediaTypeProtobuf {
			t.Errorf("prefix %q, media type %q", b.Prefix, b.MediaType)
		}
		if _, err := b.Client.Put(ctx, "/registry/test", "hello"); err != nil {
			t.Fatalf("put: %v", err)
		}
		resp, err := b.Client.Get(ctx, "/registry/test")
		if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "hello" {
			t.Fatalf("get: %v %v", resp, err)
		}
		if err := b.Health.Check(ctx); err != nil {
			t.Errorf("health: %v", err)
		}
		c, err := b.NewClient()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Get(ctx, "/registry/test"); err != nil {
			t.Errorf("get through a second client: %v", err)
		}
		// The compactor runs: two rounds later, the first recorded revision is compacted.
		deadline := time.Now().Add(10 * time.Second)
		for b.Compactor.CompactRevision() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if b.Compactor.CompactRevision() == 0 {
			t.Error("no compaction observed at a 50ms interval")
		}
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !served {
		t.Fatal("Serve was not called")
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, "etcd", "member")); err != nil {
		t.Errorf("etcd data: %v", err)
	}
	etcdtest.CheckNoGoroutinesLeft(t, before)
}

func TestRunKeepsDataAcrossRestarts(t *testing.T) {
	opts := server.DefaultOptions()
	opts.DataDir = t.TempDir()
	for i, step := range []func(ctx context.Context, b *server.Backend) error{
		func(ctx context.Context, b *server.Backend) error {
			_, err := b.Client.Put(ctx, "/registry/kept", "yes")
			return err
		},
		func(ctx context.Context, b *server.Backend) error {
			resp, err := b.Client.Get(ctx, "/registry/kept")
			if err == nil && (len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "yes") {
				err = errors.New("the key written before the restart is gone")
			}
			return err
		},
	} {
		if err := runUntil(t, opts, func(ctx context.Context, b *server.Backend) {
			if err := step(ctx, b); err != nil {
				t.Errorf("run %d: %v", i+1, err)
			}
		}); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
}

func TestRunExternalEtcd(t *testing.T) {
	shared := etcdtest.New(t)
	opts := server.DefaultOptions()
	opts.DataDir = filepath.Join(t.TempDir(), "unused")
	opts.EtcdServers = []string{shared.Endpoint}
	opts.EtcdPrefix = "custom/"
	opts.StorageMediaType = server.MediaTypeJSON
	err := runUntil(t, opts, func(ctx context.Context, b *server.Backend) {
		if b.Embedded != nil {
			t.Error("an embedded etcd started although --etcd-servers was given")
		}
		if b.Prefix != "/custom" || b.MediaType != server.MediaTypeJSON {
			t.Errorf("prefix %q, media type %q", b.Prefix, b.MediaType)
		}
		if _, err := b.Client.Put(ctx, "/custom/x", "y"); err != nil {
			t.Errorf("put: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(opts.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir with an external etcd: %v, want it not created", err)
	}
	// The shared etcd is still up: Run closed only what it opened.
	if _, err := shared.Client(t).Get(t.Context(), "/custom/x"); err != nil {
		t.Errorf("external etcd after Run: %v", err)
	}
}

func TestRunReturnsServeError(t *testing.T) {
	shared := etcdtest.New(t)
	opts := server.DefaultOptions()
	opts.EtcdServers = []string{shared.Endpoint}
	opts.Logger = testLogger(t)
	boom := errors.New("boom")
	opts.Serve = func(context.Context, *server.Backend) error { return boom }
	if err := server.Run(t.Context(), opts); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want %v", err, boom)
	}
}

func TestStartFailsWithoutEtcd(t *testing.T) {
	opts := server.DefaultOptions()
	opts.EtcdServers = []string{"http://127.0.0.1:1"}
	opts.Logger = testLogger(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	b, err := server.Start(ctx, opts)
	if err == nil {
		b.Close()
		t.Fatal("Start succeeded without an etcd")
	}
	if !strings.Contains(err.Error(), "not ready") {
		t.Errorf("Start: %v, want a \"not ready\" error", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*server.Options)
		wantErr string
	}{
		{name: "defaults", change: func(*server.Options) {}},
		{name: "external etcd needs no data dir", change: func(o *server.Options) {
			o.DataDir, o.EtcdServers = "", []string{"https://10.0.0.1:2379"}
		}},
		{name: "embedded etcd needs a data dir", change: func(o *server.Options) { o.DataDir = "" }, wantErr: "--data-dir"},
		{name: "server without scheme", change: func(o *server.Options) { o.EtcdServers = []string{"10.0.0.1:2379"} }, wantErr: "--etcd-servers"},
		{name: "negative interval", change: func(o *server.Options) { o.EtcdCompactionInterval = -time.Second }, wantErr: "--etcd-compaction-interval"},
		{name: "unknown media type", change: func(o *server.Options) { o.StorageMediaType = "text/plain" },
			wantErr: `--storage-media-type "text/plain" invalid, allowed values: application/json, application/yaml, application/vnd.kubernetes.protobuf`},
		{name: "certificate without key", change: func(o *server.Options) { o.EtcdCertFile = "c.pem" }, wantErr: "--etcd-keyfile"},
		{name: "embedded etcd ports", change: func(o *server.Options) { o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = 2379, 2380 }},
		{name: "negative port", change: func(o *server.Options) { o.EmbeddedEtcdClientPort = -1 }, wantErr: "--embedded-etcd-client-port -1"},
		{name: "port too large", change: func(o *server.Options) { o.EmbeddedEtcdPeerPort = 65536 }, wantErr: "--embedded-etcd-peer-port 65536"},
		{name: "same ports", change: func(o *server.Options) { o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = 2379, 2379 }, wantErr: "must differ"},
		{name: "secure port too large", change: func(o *server.Options) { o.SecurePort = 70000 }, wantErr: "--secure-port 70000"},
		{name: "bad watch cache size", change: func(o *server.Options) { o.WatchCacheSizes = []string{"pods#x"} }, wantErr: "invalid size of watch cache size: pods#x"},
		{name: "bad watch cache bytes", change: func(o *server.Options) { o.WatchCacheMaxBytes = []string{"pods#lots"} }, wantErr: "lots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := server.DefaultOptions()
			tt.change(&o)
			err := o.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
