package aes

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"github.com/regis-dev/regis/internal/storage/value"
)

// CBCPrefix starts every value the aescbc provider writes; the key name and
// a colon follow it.
const CBCPrefix = "k8s:enc:aescbc:v1:"

// The errors of a stored aescbc value that does not decrypt.
var (
	ErrInvalidBlockSize    = errors.New("the stored data is not a multiple of the block size")
	ErrInvalidPKCS7Data    = errors.New("invalid PKCS7 data (empty or not padded)")
	ErrInvalidPKCS7Padding = errors.New("invalid padding on input")
)

// cbc encrypts with AES-CBC under a random IV and PKCS#7 padding. It takes
// no additional data: a value copied to another key still decrypts, as in
// kube-apiserver.
type cbc struct {
	block  cipher.Block
	random io.Reader
}

// NewCBC returns the aescbc transformer of one key (16, 24 or 32 bytes).
// random supplies IVs; nil means crypto/rand.Reader.
func NewCBC(key []byte, random io.Reader) (value.Transformer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key of %d bytes: want 16, 24 or 32", len(key))
	}
	return &cbc{block: block, random: orCryptoRand(random)}, nil
}

func (t *cbc) TransformFromStorage(_ context.Context, data []byte, _ value.Context) ([]byte, bool, error) {
	const bs = aes.BlockSize
	if len(data) < bs {
		return nil, false, ErrDataTooShort
	}
	iv, body := data[:bs], data[bs:]
	if len(body)%bs != 0 {
		return nil, false, ErrInvalidBlockSize
	}
	if len(body) == 0 {
		return nil, false, ErrInvalidPKCS7Data
	}
	out := make([]byte, len(body))
	cipher.NewCBCDecrypter(t.block, iv).CryptBlocks(out, body)

	pad := out[len(out)-1]
	n := int(pad)
	if n == 0 || n > len(out) {
		return nil, false, ErrInvalidPKCS7Data
	}
	for _, c := range out[len(out)-n:] {
		if c != pad {
			return nil, false, ErrInvalidPKCS7Padding
		}
	}
	return out[:len(out)-n], false, nil
}

func (t *cbc) TransformToStorage(_ context.Context, data []byte, _ value.Context) ([]byte, error) {
	const bs = aes.BlockSize
	pad := bs - len(data)%bs // always 1..16 bytes
	out := make([]byte, bs+len(data)+pad)
	iv := out[:bs]
	if _, err := io.ReadFull(t.random, iv); err != nil {
		return nil, errors.New("unable to read sufficient random bytes")
	}
	copy(out[bs:], data)
	for i := bs + len(data); i < len(out); i++ {
		out[i] = byte(pad)
	}
	body := out[bs:]
	cipher.NewCBCEncrypter(t.block, iv).CryptBlocks(body, body)
	return out, nil
}
