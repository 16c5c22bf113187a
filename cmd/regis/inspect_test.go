package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

var kubeFixtures = fixturesDir("../../../shared/fixtures/kube-apiserver-v1.37.2")

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

// putFixture stores a value a real kube-apiserver wrote under its key.
func putFixture(t *testing.T, c clientv3.KV, base string) string {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(kubeFixtures, base+".key"))
	if err != nil {
		t.Fatal(err)
	}
	val, err := os.ReadFile(filepath.Join(kubeFixtures, base+".etcd.bin"))
	if err != nil {
		t.Fatal(err)
	}
	k := strings.TrimSpace(string(key))
	if _, err := c.Put(t.Context(), k, string(val)); err != nil {
		t.Fatal(err)
	}
	return k
}

func saveSnapshot(t *testing.T, c *clientv3.Client) string {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "snap.db")
	rc, err := c.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestInspectCommands: ls, get (decrypted, raw, at a revision), history
// and watch over values a real kube-apiserver wrote, live and on a
// snapshot.
func TestInspectCommands(t *testing.T) {
	srv := etcdtest.New(t)
	c := srv.Client(t)
	for _, f := range []string{"objects/pod", "objects/node", "objects/configmap", "objects/customresource", "secrets/s-aescbc"} {
		putFixture(t, c, f)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm1", Namespace: "fx"}, Data: map[string]string{"a": "c", "new": "x"}}
	pb, err := codec.New(codec.MediaTypeProtobuf, corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pb.Encode(cm, &buf); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Get(t.Context(), "/registry/configmaps/fx/cm1")
	if _, err := c.Put(t.Context(), "/registry/configmaps/fx/cm1", buf.String()); err != nil {
		t.Fatal(err)
	}
	live := []string{"--etcd-servers", srv.Endpoint}
	snap := saveSnapshot(t, c)
	cfg := filepath.Join(kubeFixtures, "secrets", "encryption-aescbc.yaml")

	for name, src := range map[string][]string{"live": live, "snapshot": {"--snapshot", snap}} {
		t.Run(name, func(t *testing.T) {
			run := func(args ...string) string {
				t.Helper()
				out, err := execute(t, t.Context(), nil, append(append([]string{"inspect"}, args...), src...)...)
				if err != nil {
					t.Fatalf("inspect %v: %v\n%s", args, err, out)
				}
				return out
			}
			out := run("ls")
			for _, want := range []string{"/registry/minions/node-1", "protobuf   identity", "aescbc:key1", "json", "widgets.example.com", "TOTAL"} {
				if !strings.Contains(out, want) {
					t.Fatalf("ls lacks %q:\n%s", want, out)
				}
			}
			out = run("ls", "secrets/", "--encryption-provider-config", cfg)
			if !strings.Contains(out, "protobuf   aescbc:key1") {
				t.Fatalf("ls decrypting:\n%s", out)
			}
			out = run("ls", "/registry/nodes/", "-o", "json")
			var ls struct {
				Keys    []map[string]any
				Summary struct{ Keys int64 }
			}
			if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &ls); err != nil || ls.Summary.Keys != 1 || ls.Keys[0]["key"] != "/registry/minions/node-1" {
				t.Fatalf("ls nodes -o json: %v\n%s", err, out)
			}
			out = run("get", "/registry/nodes/node-1")
			if !strings.Contains(out, "kind: Node") || !strings.Contains(out, "name: node-1") {
				t.Fatalf("get node:\n%s", out)
			}
			out = run("get", "secrets/fx/s-aescbc", "--encryption-provider-config", cfg, "-o", "json")
			if !strings.Contains(out, `"password": "Zml4dHVyZS1hZXNjYmM="`) {
				t.Fatalf("get secret:\n%s", out)
			}
			out, err := execute(t, t.Context(), nil, append([]string{"inspect", "get", "secrets/fx/s-aescbc"}, src...)...)
			if err == nil || !strings.Contains(err.Error(), "--encryption-provider-config") || strings.Contains(out, "Zml4dHVyZS1hZXNjYmM") {
				t.Fatalf("get without a key: %v\n%s", err, out)
			}
			out = run("get", "secrets/fx/s-aescbc", "--raw", "--encryption-provider-config", cfg)
			for _, want := range []string{"provider prefix", "key name", "IV", "== decrypted value", "magic", "kind=Secret", `"k8s:enc:aescbc:v1:"`, `"key1" and a colon`} {
				if !strings.Contains(out, want) {
					t.Fatalf("get --raw lacks %q:\n%s", want, out)
				}
			}
			out = run("get", "configmaps/fx/cm1", "--revision", jsonInt(first.Header.Revision))
			if !strings.Contains(out, "a: b") {
				t.Fatalf("get --revision:\n%s", out)
			}
			out = run("history", "configmaps/fx/cm1")
			for _, want := range []string{"ADDED", "MODIFIED", `~data.a: "b" → "c"`, `+data.new: "x"`} {
				if !strings.Contains(out, want) {
					t.Fatalf("history lacks %q:\n%s", want, out)
				}
			}
			out = run("get", "example.com/widgets/fx/w1", "-o", "json")
			if !strings.Contains(out, `"kind": "Widget"`) {
				t.Fatalf("get custom resource:\n%s", out)
			}
		})
	}

	// watch streams decoded changes until interrupted.
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	cmd := newRootCmd(nil)
	cmd.SetArgs(append([]string{"inspect", "watch", "configmaps/", "-o", "json"}, live...))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), `"type":"MODIFIED"`); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("watch printed no event:\n%s", out.String())
		}
		if _, err := c.Put(t.Context(), "/registry/configmaps/fx/cm1", string(first.Kvs[0].Value)); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("watch: %v", err)
	}
	if !strings.Contains(out.String(), `"kind":"ConfigMap"`) {
		t.Fatalf("watch:\n%s", out.String())
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
