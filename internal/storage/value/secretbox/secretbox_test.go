package secretbox_test

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
	upvalue "k8s.io/apiserver/pkg/storage/value"
	upsecretbox "k8s.io/apiserver/pkg/storage/value/encrypt/secretbox"

	"github.com/regis-dev/regis/internal/storage/value"
	ours "github.com/regis-dev/regis/internal/storage/value/secretbox"
)

const etcdKey = "/registry/secrets/default/s1"

type counting struct{ n byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

func testKey() (k [32]byte) {
	for i := range k {
		k[i] = byte(11*i + 5)
	}
	return k
}

func newPair(t testing.TB) (value.Transformer, upvalue.Transformer) {
	k := testKey()
	tr, err := ours.New(k[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr, upsecretbox.NewSecretboxTransformer(k)
}

var plaintexts = map[string][]byte{
	"empty":  {},
	"short":  []byte("x"),
	"2KiB":   bytes.Repeat([]byte("k8s\x00secret"), 2048/10),
	"binary": {0, 0xff, 1, 0xfe},
}

// TestOracle: what regis writes, kube-apiserver's secretbox reads, and the
// other way round; neither binds the value to its etcd key.
func TestOracle(t *testing.T) {
	for name, plain := range plaintexts {
		t.Run(name, func(t *testing.T) {
			tr, up := newPair(t)
			ctx := t.Context()
			stored, err := tr.TransformToStorage(ctx, plain, value.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			got, stale, err := up.TransformFromStorage(ctx, stored, upvalue.DefaultContext("/elsewhere"))
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Fatalf("upstream read of ours: %q stale=%v err=%v", got, stale, err)
			}
			stored, err = up.TransformToStorage(ctx, plain, upvalue.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			got, stale, err = tr.TransformFromStorage(ctx, stored, value.DefaultContext("/elsewhere"))
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Fatalf("our read of upstream: %q stale=%v err=%v", got, stale, err)
			}
		})
	}
}

// TestLayout checks the exact bytes: nonce(24) ‖ secretbox.Seal.
func TestLayout(t *testing.T) {
	k := testKey()
	tr, err := ours.New(k[:], &counting{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.TransformToStorage(t.Context(), []byte("hello"), value.DefaultContext(etcdKey))
	if err != nil {
		t.Fatal(err)
	}
	var nonce [24]byte
	(&counting{}).Read(nonce[:])
	want := secretbox.Seal(append([]byte(nil), nonce[:]...), []byte("hello"), &nonce, &k)
	if !bytes.Equal(got, want) {
		t.Fatalf("secretbox bytes:\n got %x\nwant %x", got, want)
	}
}

func TestErrors(t *testing.T) {
	tr, _ := newPair(t)
	stored, _ := tr.TransformToStorage(t.Context(), []byte("hello"), value.DefaultContext(etcdKey))
	stored[len(stored)-1] ^= 1
	tests := []struct {
		name   string
		stored []byte
		want   error
	}{
		{name: "shorter than nonce and tag", stored: make([]byte, 39), want: ours.ErrDataTooShort},
		{name: "tampered", stored: stored, want: ours.ErrOpen},
	}
	for _, tt := range tests {
		if _, _, err := tr.TransformFromStorage(t.Context(), tt.stored, value.DefaultContext(etcdKey)); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := ours.New(make([]byte, n), nil); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
}

// FuzzFromStorage: arbitrary stored bytes never panic and decrypt exactly
// as kube-apiserver's secretbox decrypts them.
func FuzzFromStorage(f *testing.F) {
	tr, _ := newPair(f)
	for _, plain := range plaintexts {
		stored, _ := tr.TransformToStorage(f.Context(), plain, value.DefaultContext(etcdKey))
		f.Add(stored)
	}
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, stored []byte) {
		tr, up := newPair(t)
		got, _, err := tr.TransformFromStorage(t.Context(), stored, value.DefaultContext(etcdKey))
		want, _, upErr := up.TransformFromStorage(t.Context(), stored, upvalue.DefaultContext(etcdKey))
		if (err == nil) != (upErr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("read of %x: ours %x, %v; upstream %x, %v", stored, got, err, want, upErr)
		}
	})
}

var value2KiB = bytes.Repeat([]byte{'s'}, 2048)

func BenchmarkToStorage2KiB(b *testing.B) {
	tr, up := newPair(b)
	b.Run("secretbox", func(b *testing.B) {
		b.SetBytes(2048)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.TransformToStorage(b.Context(), value2KiB, value.DefaultContext(etcdKey)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("secretbox/upstream", func(b *testing.B) {
		b.SetBytes(2048)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := up.TransformToStorage(b.Context(), value2KiB, upvalue.DefaultContext(etcdKey)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFromStorage2KiB(b *testing.B) {
	tr, up := newPair(b)
	stored, _ := tr.TransformToStorage(b.Context(), value2KiB, value.DefaultContext(etcdKey))
	b.Run("secretbox", func(b *testing.B) {
		b.SetBytes(2048)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := tr.TransformFromStorage(b.Context(), stored, value.DefaultContext(etcdKey)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("secretbox/upstream", func(b *testing.B) {
		b.SetBytes(2048)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := up.TransformFromStorage(b.Context(), stored, upvalue.DefaultContext(etcdKey)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
