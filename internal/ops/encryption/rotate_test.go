package encryption_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/storage/value"
)

// background runs writers through every node and a reader through each
// node until stopped, and reports the first error: a secret that some
// node cannot read at some step fails the test.
type background struct {
	stop   context.CancelFunc
	wg     sync.WaitGroup
	writes atomic.Int64
	reads  atomic.Int64
	mu     sync.Mutex
	err    error
}

func runBackground(t *testing.T, nodes []*node, names int) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{stop: cancel}
	fail := func(err error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err == nil {
			b.err = err
		}
	}
	for w, n := range nodes {
		b.wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprint("s", (i*13+w*7)%names)
				if err := n.updateSecret(ctx, name, fmt.Sprintf("%s-%d", n.id, i)); err != nil {
					if ctx.Err() == nil {
						fail(fmt.Errorf("%s writes %s: %w", n.id, name, err))
					}
					return
				}
				b.writes.Add(1)
				time.Sleep(time.Millisecond)
			}
		})
		b.wg.Go(func() {
			for ctx.Err() == nil {
				got, err := n.readSecrets(ctx)
				if err == nil && len(got) < names {
					err = fmt.Errorf("read %d secrets, want %d", len(got), names)
				}
				if err != nil {
					if ctx.Err() == nil {
						fail(fmt.Errorf("%s reads: %w", n.id, err))
					}
					return
				}
				b.reads.Add(1)
			}
		})
	}
	return b
}

func (b *background) end(t *testing.T) {
	t.Helper()
	b.stop()
	b.wg.Wait()
	if b.err != nil {
		t.Fatalf("concurrent writers and readers: %v", b.err)
	}
	t.Logf("concurrently: %d writes, %d full reads", b.writes.Load(), b.reads.Load())
}

func canRead(set *encryptionconfig.Set, key string) bool {
	for _, k := range set.Keys() {
		if k.Resource == "secrets" && k.Provider+":"+k.Key == key {
			return true
		}
	}
	return false
}

// TestRotateTwoServers: an online rotation key1 → key2 across two servers
// on one etcd, each with its own configuration file, with writers and
// readers on both throughout: the new key is written only once both read
// it; every secret is readable by both at every step; every value ends on
// key2 and key1 leaves both files.
func TestRotateTwoServers(t *testing.T) {
	prefix := newPrefix()
	a := newNode(t, "server-a", prefix, config(false, "key1"), nodeOptions{})
	b := newNode(t, "server-b", prefix, config(false, "key1"), nodeOptions{noReload: true}) // slow to reload
	const names = 60
	for i := range names {
		a.createSecret(t, fmt.Sprint("s", i), "pw")
	}
	bg := runBackground(t, []*node{a, b}, names)
	defer bg.stop()

	var (
		mu        sync.Mutex
		steps     []string
		waitedOnB bool
	)
	res, err := encryption.Rotate(t.Context(), encryption.RotateOptions{
		Client: a.client, Prefix: prefix, ConfigPaths: []string{a.path, b.path},
		MinServers: 2, PollInterval: 10 * time.Millisecond, WaitTimeout: 30 * time.Second, Logger: quiet,
		OnStep: func(s encryption.Step) {
			mu.Lock()
			defer mu.Unlock()
			steps = append(steps, fmt.Sprintf("%s done=%v: %s %v", s.Phase, s.Done, s.Detail, s.Waiting))
			switch {
			case s.Phase == encryption.PhaseAdd && len(s.Waiting) > 0:
				// Server b has not reloaded: the new key must wait for it.
				waitedOnB = waitedOnB || strings.Contains(strings.Join(s.Waiting, " "), "server-b")
				b.startReload()
			case s.Phase == encryption.PhasePromote && !s.Done:
				// Promotion: every server reads key2 already.
				for _, n := range []*node{a, b} {
					if !canRead(n.ts.Current(), "aescbc:key2") {
						t.Errorf("key2 promoted while %s cannot read it", n.id)
					}
				}
			case s.Phase == encryption.PhaseRewrite && !s.Done:
				for _, n := range []*node{a, b} {
					if w := peers.RulesOf(n.ts.Current())[0].Write.String(); w != "aescbc:key2" {
						t.Errorf("rewrite started while %s writes with %s", n.id, w)
					}
				}
			}
		},
	})
	bg.end(t)
	for _, s := range steps {
		t.Log(s)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !waitedOnB {
		t.Error("the add step did not wait for server-b")
	}
	if !res.Completed || res.Old.String() != "aescbc:key1" || res.New.String() != "aescbc:key2" || len(res.Servers) != 2 {
		t.Fatalf("result %+v", res)
	}
	if got := storedKeys(t, a.client, prefix+"/secrets/"); len(got) != 1 || got["aescbc:key2"] != names {
		t.Fatalf("stored: %v, want all %d on aescbc:key2", got, names)
	}
	for _, n := range []*node{a, b} {
		data, err := os.ReadFile(n.path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := encryptionconfig.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		keys := cfg.Resources[0].Providers[0].AESCBC.Keys
		if len(keys) != 1 || keys[0].Name != "key2" || strings.Contains(string(data), secret1) {
			t.Errorf("%s's file after the rotation:\n%s", n.id, data)
		}
		if canRead(n.ts.Current(), "aescbc:key1") {
			t.Errorf("%s still reads key1", n.id)
		}
		if got, err := n.readSecrets(t.Context()); err != nil || len(got) != names {
			t.Errorf("%s reads %d secrets, %v", n.id, len(got), err)
		}
	}
	if res.Final == nil || len(res.Final.NotOn()) != 0 {
		t.Errorf("final report: %v", res.Final)
	}
}

// TestRotateRefusesToDropANeededKey: a value written under the old key
// after the verification (by a writer that is not a regis server) stops
// the rotation before the old key is dropped; once that value is
// rewritten, running the rotation again resumes and finishes it.
func TestRotateRefusesToDropANeededKey(t *testing.T) {
	prefix := newPrefix()
	a := newNode(t, "server-a", prefix, config(false, "key1"), nodeOptions{})
	for i := range 5 {
		a.createSecret(t, fmt.Sprint("s", i), "pw")
	}
	// A rogue writer with the old configuration.
	oldCfg, err := encryptionconfig.Parse([]byte(config(false, "key1")))
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := encryptionconfig.Build(t.Context(), oldCfg, "old", encryptionconfig.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	raw, err := a.client.Get(t.Context(), prefix+"/secrets/ns/s0")
	if err != nil {
		t.Fatal(err)
	}
	opts := encryption.RotateOptions{
		Client: a.client, Prefix: prefix, ConfigPaths: []string{a.path},
		NewKeyName: "key2", NewKeySecret: secret2, PollInterval: 10 * time.Millisecond, Logger: quiet,
		OnStep: func(s encryption.Step) {
			if s.Phase != encryption.PhaseVerify || !s.Done {
				return
			}
			tr := a.ts.Current().TransformerForResource(secretsGR)
			plain, _, err := tr.TransformFromStorage(t.Context(), raw.Kvs[0].Value, value.DefaultContext(prefix+"/secrets/ns/s0"))
			if err != nil {
				t.Fatal(err)
			}
			key := prefix + "/secrets/ns/rogue"
			out, err := rogue.TransformerForResource(secretsGR).TransformToStorage(t.Context(), plain, value.DefaultContext(key))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.client.Put(t.Context(), key, string(out)); err != nil {
				t.Fatal(err)
			}
		},
	}
	_, err = encryption.Rotate(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "refusing to drop aescbc:key1: 1 stored value(s) still need it") {
		t.Fatalf("Rotate: %v", err)
	}
	if got := storedKeys(t, a.client, prefix+"/secrets/"); got["aescbc:key1"] != 1 {
		t.Fatalf("stored: %v", got)
	}
	data, _ := os.ReadFile(a.path)
	if !strings.Contains(string(data), "key1") {
		t.Fatal("key1 dropped from the file")
	}

	// Another rotation cannot start meanwhile.
	other := opts
	other.Resource = configmapsGR
	if _, err := encryption.Rotate(t.Context(), other); !errors.Is(err, encryption.ErrRotationInProgress) {
		if err == nil || !strings.Contains(err.Error(), "no entry") {
			t.Fatalf("a second rotation: %v", err)
		}
	}

	// The rogue value rewritten, the rotation resumes at drop.
	if _, err := encryption.Rewrite(t.Context(), encryption.RewriteOptions{Client: a.client, Prefix: prefix, Set: a.ts.Current(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	opts.OnStep = nil
	res, err := encryption.Rotate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != encryption.PhaseDrop || !res.Completed || len(res.Steps) != 1 {
		t.Fatalf("resumed rotation: %+v", res)
	}
	if got := storedKeys(t, a.client, prefix+"/secrets/"); len(got) != 1 || got["aescbc:key2"] != 6 {
		t.Fatalf("stored: %v", got)
	}
}

// TestRulesOfConfig: the rules read from a file without building it are
// those of the built configuration.
func TestRulesOfConfig(t *testing.T) {
	data := []byte(config(true, "key2", "key1"))
	cfg, err := encryptionconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(t.Context(), cfg, "h", encryptionconfig.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	got, want := fmt.Sprintf("%+v", encryption.RulesOfConfig(cfg)), fmt.Sprintf("%+v", peers.RulesOf(set))
	if got != want {
		t.Fatalf("RulesOfConfig = %s\nRulesOf      = %s", got, want)
	}
}

// TestOneStepEditIsGated: key2 written first into both servers' files at
// once (the classic one-step edit), server b slow to reload: server a reads
// key2 at once but keeps writing with key1 until b reads key2; then both
// write with key2; every secret stays readable by both throughout.
func TestOneStepEditIsGated(t *testing.T) {
	prefix := newPrefix()
	a := newNode(t, "server-a", prefix, config(false, "key1"), nodeOptions{})
	b := newNode(t, "server-b", prefix, config(false, "key1"), nodeOptions{noReload: true})
	const names = 30
	for i := range names {
		a.createSecret(t, fmt.Sprint("s", i), "pw")
	}
	bg := runBackground(t, []*node{a, b}, names)
	defer bg.stop()

	writeFile(t, a.path, config(false, "key2", "key1"))
	writeFile(t, b.path, config(false, "key2", "key1"))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	// a applies the file, deferred: reads key2, writes key1.
	for !canRead(a.ts.Current(), "aescbc:key2") {
		if ctx.Err() != nil {
			t.Fatal("a never applied the file")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if w := peers.RulesOf(a.ts.Current())[0].Write.String(); w != "aescbc:key1" || !strings.Contains(a.reloader.Deferred(), "server-b") {
		t.Fatalf("a writes with %s (deferred: %q) while b cannot read key2", w, a.reloader.Deferred())
	}
	time.Sleep(100 * time.Millisecond) // a keeps its write key while b lags
	if w := peers.RulesOf(a.ts.Current())[0].Write.String(); w != "aescbc:key1" {
		t.Fatalf("a promoted key2 while b cannot read it (writes with %s)", w)
	}

	b.startReload()
	key2 := peers.KeyRef{Provider: "aescbc", Key: "key2"}
	if _, err := peers.Wait(ctx, a.client, peers.NewLayout(prefix), peers.WaitOptions{Interval: 10 * time.Millisecond, MinServers: 2},
		peers.WritesWith(secretsGR, key2)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // writes under key2 by both
	bg.end(t)
	if a.reloader.Deferred() != "" || b.reloader.Deferred() != "" {
		t.Fatalf("still deferred: %q, %q", a.reloader.Deferred(), b.reloader.Deferred())
	}
}
