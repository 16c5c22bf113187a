package peers_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

const (
	secret1 = "cmVnaXMtZml4dHVyZS1hZXNjYmMta2V5LTMyYnl0ZXM="
	secret2 = "cmVnaXMtZml4dHVyZS1hZXNnY20ta2V5LTMyYnl0ZXM="
)

var prefixSeq atomic.Int64

func layout() peers.Layout { return peers.NewLayout(fmt.Sprintf("/peers%d", prefixSeq.Add(1))) }

func build(t *testing.T, providers string) *encryptionconfig.Set {
	t.Helper()
	data := []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" + providers)
	cfg, err := encryptionconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(t.Context(), cfg, encryptionconfig.Hash(data), encryptionconfig.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	return set
}

func TestLayout(t *testing.T) {
	for prefix, want := range map[string]string{
		"/registry": "/regis/registry/encryption/", "registry/": "/regis/registry/encryption/",
		"/": "/regis/encryption/", "/a/b": "/regis/a/b/encryption/",
	} {
		if got := peers.NewLayout(prefix).Root(); got != want {
			t.Errorf("NewLayout(%q).Root() = %q, want %q", prefix, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	set := build(t, "  - aescbc: {keys: [{name: key2, secret: "+secret2+"}, {name: key1, secret: "+secret1+"}]}\n  - identity: {}\n")
	reg := peers.Registration{ID: "a", Rules: peers.RulesOf(set)}
	secrets := schema.GroupResource{Resource: "secrets"}
	if w := reg.Writes(secrets); w.String() != "aescbc:key2" || w.Fingerprint == "" {
		t.Fatalf("Writes = %+v", w)
	}
	key1 := reg.Rules[0].Read[1]
	if !reg.CanRead(secrets, key1) || !reg.CanRead(secrets, peers.Identity) {
		t.Fatal("cannot read its own keys")
	}
	other := key1
	other.Fingerprint = "0000000000000000"
	if reg.CanRead(secrets, other) {
		t.Fatal("reads another key material under the same name")
	}
	cm := schema.GroupResource{Resource: "configmaps"}
	if reg.Writes(cm) != peers.Identity || reg.CanRead(cm, key1) || !reg.CanRead(cm, peers.Identity) {
		t.Fatal("an unconfigured resource is not identity")
	}
}

// TestPublisher: a server's registration follows its configuration, and
// disappears when it stops; Wait waits for the laggard.
func TestPublisher(t *testing.T) {
	c := srv.Client(t)
	l := layout()
	set1 := build(t, "  - aescbc: {keys: [{name: key1, secret: "+secret1+"}]}\n")
	set12 := build(t, "  - aescbc: {keys: [{name: key1, secret: "+secret1+"}, {name: key2, secret: "+secret2+"}]}\n")
	key2 := peers.RulesOf(set12)[0].Read[1]
	secrets := schema.GroupResource{Resource: "secrets"}

	run := func(id string, ts *encryptionconfig.Transformers) (stop func()) {
		p, err := peers.NewPublisher(peers.PublisherConfig{Client: c, Layout: l, ID: id, Transformers: ts, TTL: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { _ = p.Run(ctx) })
		return func() { cancel(); wg.Wait() }
	}
	tsA, tsB := encryptionconfig.NewTransformers(set1), encryptionconfig.NewTransformers(set1)
	stopA := run("a", tsA)
	defer stopA()
	stopB := run("b", tsB)
	defer stopB()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := peers.Wait(ctx, c, l, peers.WaitOptions{Interval: 50 * time.Millisecond, MinServers: 2}); err != nil {
		t.Fatal(err)
	}

	tsA.Swap(set12)
	var seen []peers.Lagging
	regs, err := func() ([]peers.Registration, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		return peers.Wait(ctx, c, l, peers.WaitOptions{Interval: 50 * time.Millisecond, Progress: func(_ int, lag []peers.Lagging) { seen = lag }}, peers.ReadsKey(secrets, key2))
	}()
	if err == nil || len(seen) != 1 || seen[0].Server.ID != "b" {
		t.Fatalf("Wait = %v, %v; lagging %v; want b lagging", regs, err, seen)
	}
	tsB.Swap(set12)
	regs, err = peers.Wait(ctx, c, l, peers.WaitOptions{Interval: 50 * time.Millisecond}, peers.ReadsKey(secrets, key2))
	if err != nil || len(regs) != 2 {
		t.Fatalf("Wait = %v, %v", regs, err)
	}
	if regs[0].ConfigHash != set12.Hash() || regs[0].PID != os.Getpid() {
		t.Fatalf("registration %+v", regs[0])
	}

	// A stopped server is not waited for any more.
	tsA.Swap(set1)
	stopA()
	regs, err = peers.Wait(ctx, c, l, peers.WaitOptions{Interval: 50 * time.Millisecond}, peers.ReadsKey(secrets, key2))
	if err != nil || len(regs) != 1 || regs[0].ID != "b" {
		t.Fatalf("after a stopped: %v, %v", regs, err)
	}
}

// TestWriteCounter: two processes' counts add up in etcd.
func TestWriteCounter(t *testing.T) {
	c := srv.Client(t)
	l := layout()
	a, b := peers.NewWriteCounter(), peers.NewWriteCounter()
	incA, incB := a.Hook("k1", "fp1"), b.Hook("k1", "fp1")
	other := b.Hook("k2", "fp2")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				incA()
				incB()
			}
			if err := a.Flush(t.Context(), c, l); err != nil {
				t.Error(err)
			}
			if err := b.Flush(t.Context(), c, l); err != nil {
				t.Error(err)
			}
		})
	}
	other()
	wg.Wait()
	if err := b.Flush(t.Context(), c, l); err != nil {
		t.Fatal(err)
	}
	got, err := peers.ReadWriteCounts(t.Context(), c, l)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "k1" || got[0].Writes != 2000 || got[1].Key != "k2" || got[1].Writes != 1 {
		t.Fatalf("counts = %+v", got)
	}
	if p := a.Pending(); p["k1"] != 0 {
		t.Fatalf("pending after flush: %v", p)
	}
}
