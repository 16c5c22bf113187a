package aes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/regis-dev/regis/internal/storage/value"
)

// SeedSize is the size of a KMS v2 seed, of the info bytes that start
// every value sealed under one, and of the AES-256 key derived from both.
const SeedSize = 32

// hkdfGCM seals each value with its own AES-256-GCM key:
// HKDF-Expand(SHA-256, PRK = seed, info, 32) with 32 random info bytes
// (Expand only, no Extract: kube-apiserver's KMS v2
// HKDF_SHA256_XNONCE_AES_GCM_SEED). Stored layout:
// info(32) ‖ nonce(12) ‖ ciphertext ‖ tag(16); the etcd key is additional data.
type hkdfGCM struct {
	seed   []byte
	random io.Reader
	cache  *kdfCache
}

// NewHKDFGCM returns the transformer of a KMS v2 seed (at least SeedSize
// bytes; kube-apiserver's are exactly 32). random supplies info and nonces;
// nil means crypto/rand.Reader. The seed is copied.
func NewHKDFGCM(seed []byte, random io.Reader) (value.Transformer, error) {
	if len(seed) < SeedSize {
		return nil, fmt.Errorf("invalid seed length %d used for key generation", len(seed))
	}
	return &hkdfGCM{seed: bytes.Clone(seed), random: orCryptoRand(random), cache: newKDFCache(time.Now)}, nil
}

func (t *hkdfGCM) derive(info []byte) (*gcm, error) {
	key := make([]byte, SeedSize)
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, t.seed, info), key); err != nil {
		return nil, fmt.Errorf("failed to KDF expand seed with info: %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &gcm{aead: aead, random: t.random}, nil
}

func (t *hkdfGCM) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	if len(data) < SeedSize {
		return nil, false, ErrDataTooShort
	}
	aad, info := dataCtx.AuthenticatedData(), data[:SeedSize]
	g := t.cache.get(aad, info)
	if g == nil {
		var err error
		info = bytes.Clone(info) // do not pin the whole stored value
		if g, err = t.derive(info); err != nil {
			return nil, false, fmt.Errorf("failed to derive read key from KDF: %w", err)
		}
		t.cache.set(aad, info, g)
	}
	return g.TransformFromStorage(ctx, data[SeedSize:], dataCtx)
}

func (t *hkdfGCM) TransformToStorage(_ context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	out := make([]byte, SeedSize+gcmNonceSize, SeedSize+gcmNonceSize+len(data)+16)
	if _, err := io.ReadFull(t.random, out[:SeedSize]); err != nil {
		return nil, fmt.Errorf("failed to generate info for KDF: %w", err)
	}
	g, err := t.derive(out[:SeedSize])
	if err != nil {
		return nil, fmt.Errorf("failed to derive write key from KDF: %w", err)
	}
	t.cache.set(dataCtx.AuthenticatedData(), bytes.Clone(out[:SeedSize]), g)
	nonce := out[SeedSize:]
	if _, err := io.ReadFull(t.random, nonce); err != nil {
		return nil, fmt.Errorf("failed to write nonce for AES-GCM: %w", err)
	}
	return g.aead.Seal(out, nonce, data, dataCtx.AuthenticatedData()), nil
}
