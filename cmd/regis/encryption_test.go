package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	opsenc "github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/server"
	"github.com/regis-dev/regis/internal/storage/value"
)

const (
	cmdKey1 = "cmVnaXMtZml4dHVyZS1hZXNjYmMta2V5LTMyYnl0ZXM="
	cmdKey2 = "cmVnaXMtZml4dHVyZS1hZXNnY20ta2V5LTMyYnl0ZXM="
)

func cmdConfig(keys string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [" + keys + "]}\n  - identity: {}\n"
}

// seedSecrets stores n values under /registry/secrets/ns/ as a server
// with cfg would.
func seedSecrets(t *testing.T, c clientv3.KV, cfg string, n int) {
	t.Helper()
	parsed, err := encryptionconfig.Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(t.Context(), parsed, "h", encryptionconfig.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	tr := set.TransformerForResource(schema.GroupResource{Resource: "secrets"})
	for i := range n {
		key := fmt.Sprintf("/registry/secrets/ns/s%d", i)
		out, err := tr.TransformToStorage(t.Context(), []byte(fmt.Sprintf("k8s\x00secret %d", i)), value.DefaultContext(key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Put(t.Context(), key, string(out)); err != nil {
			t.Fatal(err)
		}
	}
}

func statusJSON(t *testing.T, args ...string) *opsenc.Report {
	t.Helper()
	out, err := execute(t, t.Context(), nil, append([]string{"encryption", "status", "-o", "json"}, args...)...)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var rep opsenc.Report
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &rep); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	return &rep
}

// TestEncryptionCommands: status finds values on a key that is no longer
// the write key (and --check fails), rewrite moves them, rotate moves them
// on to a new key and drops the old one; then status offline on a
// snapshot agrees.
func TestEncryptionCommands(t *testing.T) {
	srv := etcdtest.New(t)
	seedSecrets(t, srv.Client(t), cmdConfig("{name: key1, secret: "+cmdKey1+"}"), 12)
	cfg := filepath.Join(t.TempDir(), "encryption.yaml")
	if err := os.WriteFile(cfg, []byte(cmdConfig("{name: key2, secret: "+cmdKey2+"}, {name: key1, secret: "+cmdKey1+"}")), 0o600); err != nil {
		t.Fatal(err)
	}
	live := []string{"--etcd-servers", srv.Endpoint, "--encryption-provider-config", cfg}

	rep := statusJSON(t, live...)
	if len(rep.Resources) != 1 || rep.Resources[0].Keys[0].Key != "aescbc:key1" || rep.Resources[0].Keys[0].State != opsenc.StateRead ||
		rep.Resources[0].Keys[0].Count != 12 {
		t.Fatalf("status: %+v", rep.Resources)
	}
	out, err := execute(t, t.Context(), nil, append([]string{"encryption", "status", "--check"}, live...)...)
	if err == nil || !strings.Contains(out, "aescbc:key1  read   12") || !strings.Contains(out, "ns/s0, ns/s1") {
		t.Fatalf("status --check: %v\n%s", err, out)
	}

	out, err = execute(t, t.Context(), nil, append([]string{"encryption", "rewrite"}, live...)...)
	if err != nil || !strings.Contains(out, "REWRITTEN") {
		t.Fatalf("rewrite: %v\n%s", err, out)
	}
	if rep := statusJSON(t, live...); rep.Resources[0].Keys[0].Key != "aescbc:key2" || rep.Resources[0].Keys[0].Count != 12 {
		t.Fatalf("after rewrite: %+v", rep.Resources)
	}

	// No regis server is live: rotate waits for none.
	out, err = execute(t, t.Context(), nil, append([]string{"encryption", "rotate", "-o", "json"}, live...)...)
	if err != nil {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	var res opsenc.RotateResult
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):strings.LastIndex(out, "}")+1]), &res); err != nil || !res.Completed ||
		res.Old.String() != "aescbc:key2" || res.New.String() != "aescbc:key3" {
		t.Fatalf("rotate -o json: %+v, %v\n%s", res, err, out)
	}
	data, _ := os.ReadFile(cfg)
	// key2 (the rotated key) is gone; key1, a read key before, stays.
	if strings.Contains(string(data), cmdKey2) || !strings.Contains(string(data), "name: key3") || !strings.Contains(string(data), "name: key1") {
		t.Fatalf("configuration after rotate:\n%s", data)
	}
	if strings.Contains(out, "secret:") {
		t.Fatalf("rotate printed key material:\n%s", out)
	}

	// Offline, on a snapshot.
	snap := filepath.Join(t.TempDir(), "snap.db")
	rc, err := srv.Client(t).Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(snap)
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rc.Close()
	rep = statusJSON(t, "--snapshot", snap, "--encryption-provider-config", cfg)
	if len(rep.Resources) != 1 || rep.Resources[0].Keys[0].Key != "aescbc:key3" || rep.Resources[0].Keys[0].State != opsenc.StateWrite {
		t.Fatalf("snapshot status: %+v", rep.Resources)
	}
}

// TestEncryptionCommandsOnDataDir: given --data-dir, the commands find
// the embedded etcd's credentials there by themselves: while the server
// runs they reach its etcd (mutual TLS, the data directory's client
// certificate); once it is stopped they run an etcd of their own on the
// data, secured the same way; with no record of the running etcd they say
// how to connect.
func TestEncryptionCommandsOnDataDir(t *testing.T) {
	dataDir := t.TempDir()
	opts := server.DefaultOptions()
	opts.DataDir, opts.EtcdUnsafeNoFsync, opts.EtcdCompactionInterval = dataDir, true, 0
	opts.Logger = slog.New(slog.DiscardHandler)
	b, err := server.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	seedSecrets(t, b.Client, cmdConfig("{name: key1, secret: "+cmdKey1+"}"), 12)
	cfg2 := filepath.Join(t.TempDir(), "key2.yaml")
	if err := os.WriteFile(cfg2, []byte(cmdConfig("{name: key2, secret: "+cmdKey2+"}, {name: key1, secret: "+cmdKey1+"}")), 0o600); err != nil {
		t.Fatal(err)
	}
	pkiDir := server.EmbeddedEtcdPKIDir(dataDir)
	caBefore, _ := os.ReadFile(filepath.Join(pkiDir, etcd.PKICAFile))

	// Live, through the running server's etcd.
	rep := statusJSON(t, "--data-dir", dataDir, "--encryption-provider-config", cfg2)
	if !strings.HasPrefix(rep.Source, "etcd "+b.Embedded.Endpoint) || len(rep.Resources) != 1 ||
		rep.Resources[0].Keys[0].Key != "aescbc:key1" || rep.Resources[0].Keys[0].Count != 12 {
		t.Fatalf("live status on the data dir: %s %+v", rep.Source, rep.Resources)
	}
	// --force: the server itself has no encryption configuration.
	out, err := execute(t, t.Context(), nil, "encryption", "rewrite", "--data-dir", dataDir, "--encryption-provider-config", cfg2, "--force")
	if err != nil || !strings.Contains(out, "REWRITTEN") {
		t.Fatalf("live rewrite on the data dir: %v\n%s", err, out)
	}
	if rep := statusJSON(t, "--data-dir", dataDir, "--encryption-provider-config", cfg2); rep.Resources[0].Keys[0].Key != "aescbc:key2" ||
		rep.Resources[0].Keys[0].Count != 12 {
		t.Fatalf("after the live rewrite: %+v", rep.Resources)
	}

	// No record of where the running etcd listens: a clear error.
	record := filepath.Join(pkiDir, "endpoint")
	saved, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	out, err = execute(t, t.Context(), nil, "encryption", "rewrite", "--data-dir", dataDir, "--encryption-provider-config", cfg2)
	if err == nil || !strings.Contains(err.Error(), "in use") ||
		!strings.Contains(err.Error(), "--etcd-servers https://127.0.0.1:2379") || !strings.Contains(err.Error(), filepath.Join(pkiDir, "client.crt")) {
		t.Fatalf("rewrite on a running server's data dir with no record: %v\n%s", err, out)
	}
	t.Logf("rewrite on a running server's data dir with no record: %v", err)
	// ... and the way it gives works.
	rep = statusJSON(t, "--etcd-servers", strings.TrimSpace(string(saved)), "--etcd-cafile", filepath.Join(pkiDir, "ca.crt"),
		"--etcd-certfile", filepath.Join(pkiDir, "client.crt"), "--etcd-keyfile", filepath.Join(pkiDir, "client.key"))
	if len(rep.Resources) != 1 || rep.Resources[0].Keys[0].Count != 12 {
		t.Fatalf("status with the data dir's certificate: %+v", rep.Resources)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// Offline: an etcd of the command's own, with TLS, on free ports.
	cfg1 := filepath.Join(t.TempDir(), "key1.yaml")
	if err := os.WriteFile(cfg1, []byte(cmdConfig("{name: key1, secret: "+cmdKey1+"}, {name: key2, secret: "+cmdKey2+"}")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = execute(t, t.Context(), nil, "encryption", "rewrite", "--data-dir", dataDir, "--encryption-provider-config", cfg1, "--log-level", "info")
	if err != nil || !strings.Contains(out, "REWRITTEN") {
		t.Fatalf("offline rewrite on the data dir: %v\n%s", err, out)
	}
	rep = statusJSON(t, "--data-dir", dataDir, "--encryption-provider-config", cfg1)
	if rep.Source == "" || strings.HasPrefix(rep.Source, "etcd ") || rep.Resources[0].Keys[0].Key != "aescbc:key1" ||
		rep.Resources[0].Keys[0].State != opsenc.StateWrite || rep.Resources[0].Keys[0].Count != 12 {
		t.Fatalf("offline status after the offline rewrite: %s %+v", rep.Source, rep.Resources)
	}
	if caAfter, _ := os.ReadFile(filepath.Join(pkiDir, etcd.PKICAFile)); len(caBefore) == 0 || string(caAfter) != string(caBefore) {
		t.Error("the commands replaced the etcd CA")
	}
	if _, err := os.Stat(record); !os.IsNotExist(err) {
		t.Errorf("endpoint record after the offline command: %v", err)
	}
}

// TestKMSPluginCommand: kms-plugin generates a key file, serves KMS v2 on
// its socket until its context ends, and a kms provider talks to it.
func TestKMSPluginCommand(t *testing.T) {
	dir := t.TempDir()
	sock, keys := filepath.Join(dir, "kms.sock"), filepath.Join(dir, "keys")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan string, 1)
	go func() {
		out, err := execute(t, ctx, nil, "kms-plugin", "--listen", sock, "--key-file", keys, "--generate")
		if err != nil {
			out += "error: " + err.Error()
		}
		done <- out
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no socket")
		}
	}
	cfg, err := encryptionconfig.Parse([]byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: local, endpoint: \"unix://" + sock + "\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(ctx, cfg, "h", encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	tr := set.TransformerForResource(schema.GroupResource{Resource: "secrets"})
	dc := value.DefaultContext("/registry/secrets/ns/a")
	stored, err := tr.TransformToStorage(ctx, []byte("k8s\x00v"), dc)
	if err != nil || !strings.HasPrefix(string(stored), "k8s:enc:kms:v2:local:") {
		t.Fatalf("write through the plugin: %q, %v", stored, err)
	}
	set.Close()
	cancel()
	out := <-done
	if !strings.Contains(out, "not for production") || strings.Contains(out, "error:") {
		t.Fatalf("kms-plugin output:\n%s", out)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatal("socket left behind")
	}
	if fi, err := os.Stat(keys); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
}
