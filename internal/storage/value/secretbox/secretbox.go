// Package secretbox holds the secretbox transformer of encryption at rest,
// byte for byte as kube-apiserver writes it:
//
//	k8s:enc:secretbox:v1:NAME: ‖ nonce(24, random) ‖ NaCl secretbox (XSalsa20-Poly1305, 16-byte tag)
//
// with no additional data: a value copied to another etcd key still opens.
// The transformer produces and consumes the bytes after "PREFIX NAME:".
package secretbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/regis-dev/regis/internal/storage/value"
)

// Prefix starts every value the secretbox provider writes; the key name and
// a colon follow it.
const Prefix = "k8s:enc:secretbox:v1:"

// KeySize is the only key size secretbox takes.
const KeySize = 32

const nonceSize = 24

// Errors of a stored value that does not open.
var (
	ErrDataTooShort = errors.New("the stored data was shorter than the required size")
	ErrOpen         = errors.New("secretbox: message authentication failed")
)

type transformer struct {
	key    [KeySize]byte
	random io.Reader
}

// New returns the secretbox transformer of one 32-byte key. random supplies
// nonces; nil means crypto/rand.Reader. The key is copied.
func New(key []byte, random io.Reader) (value.Transformer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox key of %d bytes: want %d", len(key), KeySize)
	}
	if random == nil {
		random = rand.Reader
	}
	t := &transformer{random: random}
	copy(t.key[:], key)
	return t, nil
}

func (t *transformer) TransformFromStorage(_ context.Context, data []byte, _ value.Context) ([]byte, bool, error) {
	if len(data) < nonceSize+secretbox.Overhead {
		return nil, false, ErrDataTooShort
	}
	var nonce [nonceSize]byte
	copy(nonce[:], data[:nonceSize])
	box := data[nonceSize:]
	out, ok := secretbox.Open(make([]byte, 0, len(box)-secretbox.Overhead), box, &nonce, &t.key)
	if !ok {
		return nil, false, ErrOpen
	}
	return out, false, nil
}

func (t *transformer) TransformToStorage(_ context.Context, data []byte, _ value.Context) ([]byte, error) {
	var nonce [nonceSize]byte
	if _, err := io.ReadFull(t.random, nonce[:]); err != nil {
		return nil, fmt.Errorf("unable to read sufficient random bytes: %w", err)
	}
	out := make([]byte, nonceSize, nonceSize+len(data)+secretbox.Overhead)
	copy(out, nonce[:])
	return secretbox.Seal(out, data, &nonce, &t.key), nil
}
