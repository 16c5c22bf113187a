// Package join adds a regis server's embedded etcd member to the embedded
// etcd cluster of another server (`regis serve --join URL --join-token
// TOKEN`), over the first server's HTTPS port.
//
// The token authenticates both sides. It is "R10" + hex(sha256(the first
// server's serving-certificate public key)) + "::" + a random secret: the
// joiner accepts only the server whose public key has that hash (no CA
// needed, a given --tls-cert-file works too), and the server accepts only
// a joiner that presents the secret. The server then signs the joiner's
// etcd serving, peer and client certificates with its etcd CA (the
// joiner's private keys never leave the joiner; the CA key never leaves the
// server), adds the member to etcd as a learner (no vote until it has
// caught up, so a joiner that never starts costs no quorum), and answers
// with the initial cluster. The joiner starts its member and promotes it
// once it is in sync. Neither side logs the secret.
package join

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/regis-dev/regis/internal/pki"
)

const tokenPrefix = "R10"

// Token is a join token: the pin of the server's key and the secret.
type Token struct {
	// KeyHash is sha256 of the server's serving certificate's
	// SubjectPublicKeyInfo.
	KeyHash [sha256.Size]byte
	// Secret authenticates the joiner.
	Secret string
}

// String is the token as written and given on the command line.
func (t Token) String() string {
	return tokenPrefix + hex.EncodeToString(t.KeyHash[:]) + "::" + t.Secret
}

// ParseToken parses a token; its errors never contain the token.
func ParseToken(s string) (Token, error) {
	var t Token
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	hash, secret, ok2 := strings.Cut(rest, "::")
	if !ok || !ok2 || len(secret) < 32 {
		return t, errors.New("malformed join token: want the content of the first server's <data-dir>/join-token")
	}
	b, err := hex.DecodeString(hash)
	if err != nil || len(b) != sha256.Size {
		return t, errors.New("malformed join token: bad key hash")
	}
	copy(t.KeyHash[:], b)
	t.Secret = secret
	return t, nil
}

// KeyHash returns the pin of a certificate's public key.
func KeyHash(rawSubjectPublicKeyInfo []byte) [sha256.Size]byte {
	return sha256.Sum256(rawSubjectPublicKeyInfo)
}

// EnsureTokenFile returns the token of path, written (0600) with a new
// secret when the file is absent, and rewritten with keyHash when the
// server's key changed (the secret stays).
func EnsureTokenFile(path string, keyHash [sha256.Size]byte) (Token, error) {
	t := Token{KeyHash: keyHash}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		old, perr := ParseToken(string(data))
		if perr != nil {
			return t, fmt.Errorf("%s: %w", path, perr)
		}
		if old.KeyHash == keyHash {
			return old, nil
		}
		t.Secret = old.Secret
	case errors.Is(err, os.ErrNotExist):
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return t, err
		}
		t.Secret = hex.EncodeToString(b)
	default:
		return t, err
	}
	if err := pki.WriteFile(path, []byte(t.String()+"\n"), pki.KeyMode); err != nil {
		return t, fmt.Errorf("writing the join token: %w", err)
	}
	return t, nil
}

// secretOK compares a presented secret with the token's in constant time.
func (t Token) secretOK(presented string) bool {
	return subtle.ConstantTimeCompare([]byte(t.Secret), []byte(presented)) == 1
}
