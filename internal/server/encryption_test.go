package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/server"
	"github.com/regis-dev/regis/internal/storage/value"
)

const (
	encKey1 = "cmVnaXMtZml4dHVyZS1hZXNjYmMta2V5LTMyYnl0ZXM="
	encKey2 = "cmVnaXMtZml4dHVyZS1hZXNnY20ta2V5LTMyYnl0ZXM="
)

func encConfig(keys string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [" + keys + "]}\n  - identity: {}\n"
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func countKeys(t *testing.T, c *clientv3.Client) int64 {
	t.Helper()
	resp, err := c.Get(t.Context(), "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// TestEncryptionConfig: the store factory gets each resource's transformer
// from the Backend; it follows a changed file with no restart; the server
// publishes the keys it reads and stops publishing when it stops; metrics
// show the configuration hash.
func TestEncryptionConfig(t *testing.T) {
	etcdSrv := etcdtest.New(t)
	c := etcdSrv.Client(t)
	path := filepath.Join(t.TempDir(), "encryption.yaml")
	writeFile(t, path, encConfig("{name: key1, secret: "+encKey1+"}"))
	opts := server.DefaultOptions()
	opts.EtcdServers = []string{etcdSrv.Endpoint}
	opts.EncryptionProviderConfig = path
	opts.EncryptionReloadInterval = 50 * time.Millisecond
	secrets := schema.GroupResource{Resource: "secrets"}
	l := peers.NewLayout("/registry")
	var id string
	err := runUntil(t, opts, func(ctx context.Context, b *server.Backend) {
		id = b.ID
		write := func(gr schema.GroupResource) []byte {
			out, err := b.TransformerForResource(gr).TransformToStorage(ctx, []byte("k8s\x00v"), value.DefaultContext("/registry/x/ns/a"))
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := write(secrets); !bytes.HasPrefix(got, []byte("k8s:enc:aescbc:v1:key1:")) {
			t.Errorf("secrets written as %q", got[:20])
		}
		if got := write(schema.GroupResource{Resource: "configmaps"}); string(got) != "k8s\x00v" {
			t.Errorf("configmaps written as %q", got)
		}
		if err := b.EncryptionHealthy(ctx); err != nil {
			t.Errorf("EncryptionHealthy: %v", err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(b.EncryptionCollectors()...)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, mf := range mfs {
			names = append(names, mf.GetName())
		}
		if !strings.Contains(strings.Join(names, " "), "apiserver_encryption_config_controller_last_config_info") {
			t.Errorf("metrics: %v", names)
		}

		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		regs, err := peers.Wait(wctx, c, l, peers.WaitOptions{Interval: 20 * time.Millisecond, MinServers: 1})
		if err != nil || len(regs) != 1 || regs[0].ID != b.ID || regs[0].Writes(secrets).String() != "aescbc:key1" {
			t.Fatalf("registrations %+v, %v", regs, err)
		}

		// Rotation step 2: key2 first. No restart.
		writeFile(t, path, encConfig("{name: key2, secret: "+encKey2+"}, {name: key1, secret: "+encKey1+"}"))
		for !bytes.HasPrefix(write(secrets), []byte("k8s:enc:aescbc:v1:key2:")) {
			if wctx.Err() != nil {
				t.Fatal("the new write key was not applied")
			}
			time.Sleep(20 * time.Millisecond)
		}
		key2 := peers.KeyRef{Provider: "aescbc", Key: "key2"}
		if _, err := peers.Wait(wctx, c, l, peers.WaitOptions{Interval: 20 * time.Millisecond}, peers.WritesWith(secrets, key2)); err != nil {
			t.Fatal(err)
		}
		// A bad file is refused; the configuration in use stays.
		writeFile(t, path, encConfig("{name: key3, secret: notbase64}"))
		time.Sleep(200 * time.Millisecond)
		if !bytes.HasPrefix(write(secrets), []byte("k8s:enc:aescbc:v1:key2:")) {
			t.Error("a bad file replaced the configuration")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	regs, err := peers.List(t.Context(), c, l)
	if err != nil || len(regs) != 0 {
		t.Fatalf("registration of %s left after stop: %+v, %v", id, regs, err)
	}
}

// TestBadEncryptionConfigRefusesStart: a configuration that does not load
// refuses the start with an error naming the flag and the field, before
// etcd is touched (no data directory, no key written), and never shows the
// key material.
func TestBadEncryptionConfigRefusesStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "encryption.yaml")
	const bad = "c2hvcnQ=" // 5 bytes
	writeFile(t, path, encConfig("{name: key1, secret: "+bad+"}"))

	opts := server.DefaultOptions()
	opts.DataDir = filepath.Join(t.TempDir(), "data")
	opts.EncryptionProviderConfig = path
	opts.Logger = testLogger(t)
	err := server.Run(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "--encryption-provider-config") ||
		!strings.Contains(err.Error(), "resources[0].providers[0].aescbc.keys[0].secret") || strings.Contains(err.Error(), bad) {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(opts.DataDir); !os.IsNotExist(err) {
		t.Fatalf("data directory created: %v", err)
	}

	etcdSrv := etcdtest.New(t)
	c := etcdSrv.Client(t)
	before := countKeys(t, c)
	opts.EtcdServers = []string{etcdSrv.Endpoint}
	if err := server.Run(t.Context(), opts); err == nil {
		t.Fatal("Run started")
	}
	if after := countKeys(t, c); after != before {
		t.Fatalf("etcd touched: %d keys, was %d", after, before)
	}
}
