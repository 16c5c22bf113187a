package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/server"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// execute runs regis with args in process, with serve as the part above
// etcd, and returns what it printed and its error.
func execute(t *testing.T, ctx context.Context, serve server.ServeFunc, args ...string) (string, error) {
	t.Helper()
	var out syncBuffer
	cmd := newRootCmd(serve)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(60 * time.Second):
		t.Fatalf("regis %s did not return; output:\n%s", strings.Join(args, " "), out.String())
		return "", nil
	}
}

// TestServeStopsOnSIGINT runs `regis serve` on a fresh data directory,
// writes and reads through its etcd client, sends the process SIGINT and
// expects a clean exit with nothing left running.
func TestServeStopsOnSIGINT(t *testing.T) {
	// os/signal starts one goroutine on first use, for the life of the
	// process: start it before the snapshot.
	warm := make(chan os.Signal, 1)
	signal.Notify(warm, syscall.SIGUSR2)
	signal.Stop(warm)
	before := etcdtest.SnapshotGoroutines()
	dataDir := filepath.Join(t.TempDir(), "data")
	served := false
	serve := func(ctx context.Context, b *server.Backend) error {
		served = true
		if _, err := b.Client.Put(ctx, b.Prefix+"/hello", "world"); err != nil {
			return err
		}
		resp, err := b.Client.Get(ctx, b.Prefix+"/hello")
		if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "world" {
			t.Errorf("get: %v, %v", resp, err)
		}
		// serve registered its handler before calling us, so SIGINT is
		// delivered to it rather than ending the test binary.
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}
	out, err := execute(t, t.Context(), serve, "serve", "--data-dir", dataDir, "--etcd-prefix", "/test-prefix",
		"--embedded-etcd-client-port", "0", "--embedded-etcd-peer-port", "0")
	if err != nil {
		t.Fatalf("regis serve: %v; output:\n%s", err, out)
	}
	if !served {
		t.Fatalf("serve hook not called; output:\n%s", out)
	}
	for _, want := range []string{
		`msg="embedded etcd started" data=` + filepath.Join(dataDir, "etcd") + " endpoint=https://127.0.0.1:",
		// The server's own client: the member's socket in the PKI directory.
		`msg="connected to etcd" endpoints=[unix://` + filepath.Join(dataDir, "pki", "etcd", "client.sock") +
			`] tls=false prefix=/test-prefix storage-media-type=application/vnd.kubernetes.protobuf`,
		`msg="embedded etcd stopped"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	etcdtest.CheckNoGoroutinesLeft(t, before)
}

// TestServeStopsWithContext: cancelling the command's context is a
// shutdown too, with the default (nil) part above etcd.
func TestServeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(2*time.Second, cancel)
	out, err := execute(t, ctx, nil, "serve", "--data-dir", t.TempDir(), "--etcd-compaction-interval", "0", "--secure-port", "0",
		"--embedded-etcd-client-port", "0", "--embedded-etcd-peer-port", "0")
	if err != nil {
		t.Fatalf("regis serve: %v; output:\n%s", err, out)
	}
	if !strings.Contains(out, `msg="embedded etcd stopped"`) {
		t.Errorf("output lacks the stop:\n%s", out)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "media type", args: []string{"--storage-media-type", "text/plain"}, want: `--storage-media-type "text/plain" invalid`},
		{name: "log level", args: []string{"--log-level", "loud"}, want: "--log-level"},
		{name: "interval", args: []string{"--etcd-compaction-interval", "-1s"}, want: "--etcd-compaction-interval"},
		{name: "argument", args: []string{"extra"}, want: "unknown command"},
		{name: "unreadable CA", args: []string{"--etcd-cafile", "/nonexistent/ca.pem"}, want: "etcd CA"},
		{name: "etcd port", args: []string{"--embedded-etcd-client-port", "-1"}, want: "--embedded-etcd-client-port -1"},
		{name: "same etcd ports", args: []string{"--embedded-etcd-client-port", "2380"}, want: "must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve := func(context.Context, *server.Backend) error {
				t.Error("served despite a bad flag")
				return nil
			}
			args := append([]string{"serve", "--data-dir", t.TempDir()}, tt.args...)
			_, err := execute(t, t.Context(), serve, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("regis %v: %v, want an error with %q", args, err, tt.want)
			}
		})
	}
}

func TestServeHasKubeAPIServerFlags(t *testing.T) {
	serve := newServeCmd(nil)
	for name, def := range map[string]string{
		"etcd-servers":             "[]",
		"etcd-cafile":              "",
		"etcd-certfile":            "",
		"etcd-keyfile":             "",
		"etcd-prefix":              "/registry",
		"etcd-compaction-interval": "5m0s",
		"storage-media-type":       "application/vnd.kubernetes.protobuf",
		"data-dir":                 "./regis-data",
		// etcd's (and k3s's) ports, on 127.0.0.1.
		"embedded-etcd-client-port": "2379",
		"embedded-etcd-peer-port":   "2380",
	} {
		f := serve.Flags().Lookup(name)
		if f == nil {
			t.Errorf("no --%s", name)
			continue
		}
		if f.DefValue != def {
			t.Errorf("--%s defaults to %q, want %q", name, f.DefValue, def)
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := execute(t, t.Context(), nil, "version")
	if err != nil || !strings.HasPrefix(out, "regis ") || !strings.Contains(out, "go1.") {
		t.Errorf("regis version: %q, %v", out, err)
	}
}
