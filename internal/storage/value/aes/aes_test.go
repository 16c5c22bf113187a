package aes_test

import (
	"bytes"
	stdaes "crypto/aes"
	"crypto/cipher"
	"errors"
	"strings"
	"testing"

	upvalue "k8s.io/apiserver/pkg/storage/value"
	upaes "k8s.io/apiserver/pkg/storage/value/encrypt/aes"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/aes"
)

const etcdKey = "/registry/secrets/default/s1"

// counting is a deterministic "random" source: 0, 1, 2, ...
type counting struct{ n byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

func key(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(7*i + 3)
	}
	return k
}

// plaintexts covers block boundaries (CBC padding of 1..16 bytes) and a
// 2 KiB value.
func plaintexts() map[string][]byte {
	return map[string][]byte{
		"empty":   {},
		"1 byte":  {'x'},
		"15":      bytes.Repeat([]byte{'a'}, 15),
		"16":      bytes.Repeat([]byte{'b'}, 16),
		"17":      bytes.Repeat([]byte{'c'}, 17),
		"2KiB":    bytes.Repeat([]byte("k8s\x00secret"), 2048/10),
		"binary":  {0, 1, 2, 0xff, 0xfe, 16, 16, 16},
		"k8s:enc": []byte("k8s:enc:aescbc:v1:key1:not really"),
	}
}

type pair struct {
	name     string
	ours     func(t testing.TB, k []byte) value.Transformer
	upstream func(t testing.TB, k []byte) upvalue.Transformer
	keySizes []int
}

func pairs() []pair {
	return []pair{
		{
			name: "aesgcm",
			ours: func(t testing.TB, k []byte) value.Transformer {
				tr, err := aes.NewGCM(k, nil)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			},
			upstream: func(t testing.TB, k []byte) upvalue.Transformer {
				block, err := stdaes.NewCipher(k)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := upaes.NewGCMTransformer(block)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			},
			keySizes: []int{16, 24, 32},
		},
		{
			name: "aescbc",
			ours: func(t testing.TB, k []byte) value.Transformer {
				tr, err := aes.NewCBC(k, nil)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			},
			upstream: func(t testing.TB, k []byte) upvalue.Transformer {
				block, err := stdaes.NewCipher(k)
				if err != nil {
					t.Fatal(err)
				}
				return upaes.NewCBCTransformer(block)
			},
			keySizes: []int{16, 24, 32},
		},
		{
			name: "kms v2 seed (HKDF)",
			ours: func(t testing.TB, k []byte) value.Transformer {
				tr, err := aes.NewHKDFGCM(k, nil)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			},
			upstream: func(t testing.TB, k []byte) upvalue.Transformer {
				tr, err := upaes.NewHKDFExtendedNonceGCMTransformer(k)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			},
			keySizes: []int{32},
		},
	}
}

// TestOracle: what regis writes, kube-apiserver's transformer reads, and
// the other way round, with the same key and etcd key.
func TestOracle(t *testing.T) {
	for _, p := range pairs() {
		for _, size := range p.keySizes {
			k := key(size)
			ours, up := p.ours(t, k), p.upstream(t, k)
			for name, plain := range plaintexts() {
				t.Run(p.name+"/"+name, func(t *testing.T) {
					ctx := t.Context()
					dc := value.DefaultContext(etcdKey)
					udc := upvalue.DefaultContext(etcdKey)

					stored, err := ours.TransformToStorage(ctx, plain, dc)
					if err != nil {
						t.Fatal(err)
					}
					got, stale, err := up.TransformFromStorage(ctx, stored, udc)
					if err != nil || stale || !bytes.Equal(got, plain) {
						t.Fatalf("upstream read of ours (key %d bytes): got %q stale=%v err=%v", size, got, stale, err)
					}

					stored, err = up.TransformToStorage(ctx, plain, udc)
					if err != nil {
						t.Fatal(err)
					}
					got, stale, err = ours.TransformFromStorage(ctx, stored, dc)
					if err != nil || stale || !bytes.Equal(got, plain) {
						t.Fatalf("our read of upstream (key %d bytes): got %q stale=%v err=%v", size, got, stale, err)
					}
				})
			}
		}
	}
}

// TestMovedValue: aesgcm and the KMS v2 seed bind a value to its etcd key
// (trap 13); aescbc does not, exactly like kube-apiserver.
func TestMovedValue(t *testing.T) {
	for _, p := range pairs() {
		t.Run(p.name, func(t *testing.T) {
			k := key(32)
			ours, up := p.ours(t, k), p.upstream(t, k)
			stored, err := ours.TransformToStorage(t.Context(), []byte("payload"), value.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			const moved = "/registry/secrets/other/s1"
			_, _, ourErr := ours.TransformFromStorage(t.Context(), stored, value.DefaultContext(moved))
			_, _, upErr := up.TransformFromStorage(t.Context(), stored, upvalue.DefaultContext(moved))
			bound := p.name != "aescbc"
			if (ourErr != nil) != bound || (upErr != nil) != bound {
				t.Fatalf("read at another key: our err %v, upstream err %v; want errors=%v", ourErr, upErr, bound)
			}
		})
	}
}

// TestGCMLayout checks the exact bytes: nonce(12) ‖ AES-GCM(plain, AAD=etcd key).
func TestGCMLayout(t *testing.T) {
	k := key(32)
	tr, err := aes.NewGCM(k, &counting{})
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("hello")
	got, err := tr.TransformToStorage(t.Context(), plain, value.DefaultContext(etcdKey))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := stdaes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	nonce := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	want := aead.Seal(append([]byte(nil), nonce...), nonce, plain, []byte(etcdKey))
	if !bytes.Equal(got, want) {
		t.Fatalf("aesgcm bytes:\n got %x\nwant %x", got, want)
	}
}

// TestCBCLayout checks the exact bytes: IV(16) ‖ AES-CBC(plain ‖ PKCS#7).
func TestCBCLayout(t *testing.T) {
	k := key(32)
	tr, err := aes.NewCBC(k, &counting{})
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("0123456789abcdef") // a full block: 16 bytes of padding follow
	got, err := tr.TransformToStorage(t.Context(), plain, value.DefaultContext(etcdKey))
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 16)
	(&counting{}).Read(iv)
	body := append(append([]byte(nil), plain...), bytes.Repeat([]byte{16}, 16)...)
	block, _ := stdaes.NewCipher(k)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	want := append(iv, body...)
	if !bytes.Equal(got, want) {
		t.Fatalf("aescbc bytes:\n got %x\nwant %x", got, want)
	}
}

func TestCBCErrors(t *testing.T) {
	k := key(32)
	tr, _ := aes.NewCBC(k, nil)
	block, _ := stdaes.NewCipher(k)
	encrypt := func(body []byte) []byte {
		iv := make([]byte, 16)
		out := append([]byte(nil), body...)
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
		return append(iv, out...)
	}
	tests := []struct {
		name   string
		stored []byte
		want   error
	}{
		{name: "shorter than the IV", stored: make([]byte, 15), want: aes.ErrDataTooShort},
		{name: "not whole blocks", stored: make([]byte, 16+5), want: aes.ErrInvalidBlockSize},
		// kube-apiserver 1.37 panics (index out of range) on an IV with no body.
		{name: "IV only", stored: make([]byte, 16), want: aes.ErrInvalidPKCS7Data},
		{name: "pad byte zero", stored: encrypt(make([]byte, 16)), want: aes.ErrInvalidPKCS7Data},
		{name: "pad byte too large", stored: encrypt(bytes.Repeat([]byte{17}, 16)), want: aes.ErrInvalidPKCS7Data},
		{name: "inconsistent padding", stored: encrypt(append(bytes.Repeat([]byte{'x'}, 13), 1, 2, 3)), want: aes.ErrInvalidPKCS7Padding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tr.TransformFromStorage(t.Context(), tt.stored, value.DefaultContext(etcdKey))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBadKeys(t *testing.T) {
	for _, n := range []int{0, 8, 31, 33} {
		if _, err := aes.NewGCM(make([]byte, n), nil); err == nil {
			t.Errorf("NewGCM accepted a %d-byte key", n)
		}
		if _, err := aes.NewCBC(make([]byte, n), nil); err == nil {
			t.Errorf("NewCBC accepted a %d-byte key", n)
		}
	}
	if _, err := aes.NewHKDFGCM(make([]byte, 31), nil); err == nil {
		t.Error("NewHKDFGCM accepted a 31-byte seed")
	}
	secretKey := bytes.Repeat([]byte("S3CR3T"), 5) // 30 bytes
	_, err := aes.NewGCM(secretKey, nil)
	if err == nil || strings.Contains(err.Error(), "S3CR3T") {
		t.Fatalf("key error %v must exist and not show the key", err)
	}
}
