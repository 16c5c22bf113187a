package aes

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/regis-dev/regis/internal/storage/value"
)

// GCMPrefix starts every value the aesgcm provider writes; the key name and
// a colon follow it.
const GCMPrefix = "k8s:enc:aesgcm:v1:"

// gcmNonceSize is the nonce size of every aesgcm value in etcd. Changing it
// would break all stored data.
const gcmNonceSize = 12

// ErrDataTooShort is returned for a stored value shorter than its provider's
// fixed header (nonce or IV).
var ErrDataTooShort = errors.New("the stored data was shorter than the required size")

// gcm seals with AES-GCM under a random 12-byte nonce, the etcd key as
// additional data.
type gcm struct {
	aead   cipher.AEAD
	random io.Reader
}

// NewGCM returns the aesgcm transformer of one key (16, 24 or 32 bytes).
// random supplies nonces; nil means crypto/rand.Reader.
//
// A random 96-bit nonce is safe for about 2^32 writes per key (NIST SP
// 800-38D); kube-apiserver advises rotating before 200,000 writes.
func NewGCM(key []byte, random io.Reader) (value.Transformer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &gcm{aead: aead, random: orCryptoRand(random)}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key of %d bytes: want 16, 24 or 32", len(key))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if n := aead.NonceSize(); n != gcmNonceSize {
		return nil, fmt.Errorf("crypto/cipher.NewGCM returned unexpected nonce size: %d", n)
	}
	return aead, nil
}

func (t *gcm) TransformFromStorage(_ context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	if len(data) < gcmNonceSize {
		return nil, false, ErrDataTooShort
	}
	out, err := t.aead.Open(nil, data[:gcmNonceSize], data[gcmNonceSize:], dataCtx.AuthenticatedData())
	if err != nil {
		return nil, false, err
	}
	return out, false, nil
}

func (t *gcm) TransformToStorage(_ context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	out := make([]byte, gcmNonceSize, gcmNonceSize+len(data)+t.aead.Overhead())
	if _, err := io.ReadFull(t.random, out); err != nil {
		return nil, fmt.Errorf("failed to write nonce for AES-GCM: %w", err)
	}
	return t.aead.Seal(out, out[:gcmNonceSize], data, dataCtx.AuthenticatedData()), nil
}

func orCryptoRand(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}
