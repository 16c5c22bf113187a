package kmsv2_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	upvalue "k8s.io/apiserver/pkg/storage/value"
	upaes "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"
	kmsservice "k8s.io/kms/pkg/service"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

const etcdKey = "/registry/secrets/default/s1"

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newProvider(t testing.TB, plugin kmsservice.Service, c *clock) *kmsv2.Provider {
	t.Helper()
	cfg := kmsv2.Config{Name: "p1", Service: plugin, Logger: slog.New(slog.DiscardHandler)}
	if c != nil {
		cfg.Now = c.Now
	}
	p, err := kmsv2.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func primed(t testing.TB, plugin kmsservice.Service, c *clock) *kmsv2.Provider {
	t.Helper()
	p := newProvider(t, plugin, c)
	if err := p.Probe(context.Background()); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return p
}

func write(t testing.TB, tr value.Transformer, plain string, key string) []byte {
	t.Helper()
	out, err := tr.TransformToStorage(context.Background(), []byte(plain), value.DefaultContext(key))
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	return out
}

func read(t testing.TB, tr value.Transformer, stored []byte, key string) (string, bool) {
	t.Helper()
	out, stale, err := tr.TransformFromStorage(context.Background(), stored, value.DefaultContext(key))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(out), stale
}

func TestRoundTripAndSeedReuse(t *testing.T) {
	plugin := kmsv2test.New("key-1")
	p := primed(t, plugin, nil)
	a := write(t, p, "k8s\x00a", etcdKey)
	b := write(t, p, "k8s\x00b", etcdKey)
	if got, stale := read(t, p, a, etcdKey); got != "k8s\x00a" || stale {
		t.Fatalf("read a: %q stale=%v", got, stale)
	}
	oa, _ := kmsv2.UnmarshalEncryptedObject(a)
	ob, _ := kmsv2.UnmarshalEncryptedObject(b)
	if !bytes.Equal(oa.EncryptedDEKSource, ob.EncryptedDEKSource) || oa.KeyID != "key-1" || oa.SourceType != kmsv2.SourceHKDFSeed {
		t.Fatalf("two writes under one key ID must share the seed: %+v %+v", oa, ob)
	}
	if bytes.Equal(oa.EncryptedData[:32], ob.EncryptedData[:32]) {
		t.Fatal("two writes share the HKDF info")
	}
	if n := plugin.Encrypts.Load(); n != 1 {
		t.Fatalf("plugin Encrypt called %d times, want 1 (one seed per key ID)", n)
	}
	if n := plugin.Decrypts.Load(); n != 0 {
		t.Fatalf("plugin Decrypt called %d times reading own writes, want 0", n)
	}
}

// TestKeyIDRotation: a new key ID gets a new seed; values under the old key
// ID still read, stale.
func TestKeyIDRotation(t *testing.T) {
	plugin := kmsv2test.New("key-1")
	p := primed(t, plugin, nil)
	old := write(t, p, "k8s\x00old", etcdKey)

	plugin.SetKeyID("key-2")
	if err := p.Probe(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p.KeyID() != "key-2" {
		t.Fatalf("key ID after rotation: %q", p.KeyID())
	}
	if got, stale := read(t, p, old, etcdKey); got != "k8s\x00old" || !stale {
		t.Fatalf("old value: %q stale=%v; want it, stale", got, stale)
	}
	fresh := write(t, p, "k8s\x00new", etcdKey)
	if o, _ := kmsv2.UnmarshalEncryptedObject(fresh); o.KeyID != "key-2" {
		t.Fatalf("new write under key ID %q", o.KeyID)
	}
	if _, stale := read(t, p, fresh, etcdKey); stale {
		t.Fatal("new value is stale")
	}
	if n := plugin.Encrypts.Load(); n != 2 {
		t.Fatalf("plugin Encrypt called %d times, want 2", n)
	}
}

// TestDEKCache: a restarted server asks the plugin once per seed, however
// many values and concurrent readers.
func TestDEKCache(t *testing.T) {
	plugin := kmsv2test.New("key-1")
	writer := primed(t, plugin, nil)
	var stored [][]byte
	for range 50 {
		stored = append(stored, write(t, writer, "k8s\x00v", etcdKey))
	}
	reader := primed(t, plugin, nil) // a restart: a new seed of its own
	var wg sync.WaitGroup
	for _, s := range stored {
		wg.Go(func() {
			if _, _, err := reader.TransformFromStorage(context.Background(), s, value.DefaultContext(etcdKey)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := plugin.Decrypts.Load(); n != 1 {
		t.Fatalf("plugin Decrypt called %d times for 50 values under one seed, want 1", n)
	}
}

// TestWriteExpiry: writes stop three minutes after the last status that
// confirmed the key ID, and an unhealthy status does not extend them;
// reads go on.
func TestWriteExpiry(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	plugin := kmsv2test.New("key-1")
	p := primed(t, plugin, c)
	v := write(t, p, "k8s\x00v", etcdKey)

	c.Add(2 * time.Minute)
	plugin.SetHealthz("degraded")
	if err := p.Probe(t.Context()); err == nil {
		t.Fatal("Probe of an unhealthy plugin succeeded")
	}
	c.Add(90 * time.Second)
	_, err := p.TransformToStorage(t.Context(), []byte("x"), value.DefaultContext(etcdKey))
	if err == nil || !strings.Contains(err.Error(), "expired") || strings.Contains(err.Error(), "key-1") {
		t.Fatalf("write after expiry: %v; want an expiry error naming the key ID hash only", err)
	}
	if got, _ := read(t, p, v, etcdKey); got != "k8s\x00v" {
		t.Fatalf("read after expiry: %q", got)
	}
	plugin.SetHealthz("ok")
	if err := p.Probe(t.Context()); err != nil {
		t.Fatal(err)
	}
	write(t, p, "k8s\x00v", etcdKey)
}

func TestProbeErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(p *kmsv2test.Plugin)
		want  string
	}{
		{name: "unreachable", setup: func(p *kmsv2test.Plugin) { p.SetFailure(errors.New("connection refused")) }, want: "connection refused"},
		{name: "wrong version", setup: func(p *kmsv2test.Plugin) { p.SetVersion("v1beta1") }, want: "expected KMSv2 API version v2"},
		{name: "empty key ID", setup: func(p *kmsv2test.Plugin) { p.SetKeyID("") }, want: "keyID is empty"},
		{name: "key ID too long", setup: func(p *kmsv2test.Plugin) { p.SetKeyID(strings.Repeat("k", 1025)) }, want: "exceeds the max size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plugin := kmsv2test.New("key-1")
			tt.setup(plugin)
			p := newProvider(t, plugin, nil)
			if err := p.Probe(t.Context()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Probe: %v, want %q", err, tt.want)
			}
			if _, err := p.TransformToStorage(t.Context(), []byte("x"), value.DefaultContext(etcdKey)); err == nil {
				t.Fatal("write with no usable key ID succeeded")
			}
		})
	}
	t.Run("version must not change", func(t *testing.T) {
		plugin := kmsv2test.New("key-1")
		p := primed(t, plugin, nil)
		plugin.SetVersion("v2beta1")
		if err := p.Probe(t.Context()); err == nil || !strings.Contains(err.Error(), "should not change") {
			t.Fatalf("Probe: %v", err)
		}
	})
}

// TestMovedValue: the etcd key is additional data (trap 13).
func TestMovedValue(t *testing.T) {
	p := primed(t, kmsv2test.New("key-1"), nil)
	v := write(t, p, "k8s\x00v", etcdKey)
	if _, _, err := p.TransformFromStorage(t.Context(), v, value.DefaultContext("/registry/secrets/default/other")); err == nil {
		t.Fatal("a KMS v2 value read at another etcd key decrypted")
	}
}

// TestOracle: kube-apiserver's read path (proto.Unmarshal of its generated
// EncryptedObject, the plugin's Decrypt, aes.NewHKDFExtendedNonceGCMTransformer)
// reads what regis writes, and regis reads what kube-apiserver's write path
// (the same transformer, proto.Marshal) writes: for seeds, and for the
// legacy AES_GCM_KEY mode (read only, stale). The envelope package itself
// cannot be imported (it needs otelhttp, which go.sum lacks).
func TestOracle(t *testing.T) {
	plugin := kmsv2test.New("key-1")
	p := primed(t, plugin, nil)
	ctx := t.Context()

	t.Run("regis writes, kube-apiserver reads", func(t *testing.T) {
		stored := write(t, p, "k8s\x00regis", etcdKey)
		var o kmstypes.EncryptedObject
		if err := proto.Unmarshal(stored, &o); err != nil {
			t.Fatal(err)
		}
		if again, err := (proto.MarshalOptions{Deterministic: true}).Marshal(&o); err != nil || !bytes.Equal(again, stored) {
			t.Fatalf("stored bytes are not proto.Marshal's:\n got %x\nwant %x (%v)", stored, again, err)
		}
		seed, err := plugin.Decrypt(ctx, "uid", &kmsservice.DecryptRequest{Ciphertext: o.EncryptedDEKSource, KeyID: o.KeyID, Annotations: o.Annotations})
		if err != nil {
			t.Fatal(err)
		}
		up, err := upaes.NewHKDFExtendedNonceGCMTransformer(seed)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := up.TransformFromStorage(ctx, o.EncryptedData, upvalue.DefaultContext(etcdKey))
		if err != nil || string(got) != "k8s\x00regis" || o.EncryptedDEKSourceType != kmstypes.EncryptedDEKSourceType_HKDF_SHA256_XNONCE_AES_GCM_SEED {
			t.Fatalf("upstream read: %q %v type %v", got, err, o.EncryptedDEKSourceType)
		}
	})

	upstreamWrite := func(t *testing.T, tr upvalue.Transformer, key []byte, typ kmstypes.EncryptedDEKSourceType) []byte {
		resp, err := plugin.Encrypt(ctx, "uid", key)
		if err != nil {
			t.Fatal(err)
		}
		data, err := tr.TransformToStorage(ctx, []byte("k8s\x00upstream"), upvalue.DefaultContext(etcdKey))
		if err != nil {
			t.Fatal(err)
		}
		out, err := proto.Marshal(&kmstypes.EncryptedObject{EncryptedData: data, KeyID: resp.KeyID,
			EncryptedDEKSource: resp.Ciphertext, Annotations: resp.Annotations, EncryptedDEKSourceType: typ})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("kube-apiserver writes with a seed, regis reads", func(t *testing.T) {
		seed := bytes.Repeat([]byte{9}, 32)
		up, _ := upaes.NewHKDFExtendedNonceGCMTransformer(seed)
		stored := upstreamWrite(t, up, seed, kmstypes.EncryptedDEKSourceType_HKDF_SHA256_XNONCE_AES_GCM_SEED)
		if got, stale := read(t, p, stored, etcdKey); got != "k8s\x00upstream" || stale {
			t.Fatalf("read: %q stale=%v; want not stale (same key ID)", got, stale)
		}
	})
	t.Run("kube-apiserver writes with a legacy DEK, regis reads it stale", func(t *testing.T) {
		up, key, err := upaes.NewGCMTransformerWithUniqueKeyUnsafe()
		if err != nil {
			t.Fatal(err)
		}
		stored := upstreamWrite(t, up, key, kmstypes.EncryptedDEKSourceType_AES_GCM_KEY)
		if got, stale := read(t, p, stored, etcdKey); got != "k8s\x00upstream" || !stale {
			t.Fatalf("read: %q stale=%v; want stale", got, stale)
		}
	})
}

// TestReadWithoutPlugin: values are readable before the first status (a
// plugin that starts after the server), reported stale.
func TestReadWithoutStatus(t *testing.T) {
	plugin := kmsv2test.New("key-1")
	v := write(t, primed(t, plugin, nil), "k8s\x00v", etcdKey)
	p := newProvider(t, plugin, nil)
	if got, stale := read(t, p, v, etcdKey); got != "k8s\x00v" || !stale {
		t.Fatalf("read: %q stale=%v", got, stale)
	}
}

// FuzzFromStorage: arbitrary stored bytes never panic the reader.
func FuzzFromStorage(f *testing.F) {
	plugin := kmsv2test.New("key-1")
	p := primed(f, plugin, nil)
	f.Add(write(f, p, "k8s\x00v", etcdKey))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, stored []byte) {
		got, _, err := p.TransformFromStorage(t.Context(), stored, value.DefaultContext(etcdKey))
		if err == nil && got == nil {
			t.Fatal("nil plaintext without error")
		}
	})
}

func BenchmarkToStorage2KiB(b *testing.B) {
	p := primed(b, kmsv2test.New("key-1"), nil)
	plain := bytes.Repeat([]byte{'s'}, 2048)
	dc := value.DefaultContext(etcdKey)
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.TransformToStorage(b.Context(), plain, dc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromStorage2KiB(b *testing.B) {
	p := primed(b, kmsv2test.New("key-1"), nil)
	dc := value.DefaultContext(etcdKey)
	stored := write(b, p, string(bytes.Repeat([]byte{'s'}, 2048)), etcdKey)
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.TransformFromStorage(b.Context(), stored, dc); err != nil {
			b.Fatal(err)
		}
	}
}
