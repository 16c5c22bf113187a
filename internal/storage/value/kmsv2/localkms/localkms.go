// Package localkms is a KMS v2 plugin for development and tests: its key
// encryption keys (KEKs) are read from a local file. It is NOT for
// production: a KEK on the same machine as the data it protects protects
// little, and nothing here is hardened (no HSM, no access control beyond
// the socket's file mode).
//
// The key file holds one base64 (standard encoding) 32-byte key per line,
// the current key first; blank lines and lines starting with '#' are
// skipped. Rotation is changing the file: put a new key first and keep the
// old ones below it for as long as values encrypted under them exist. The
// file is re-read when its size or modification time changes. A key's ID is
// "local-" and the first 16 hex digits of its SHA-256, so IDs never show
// key material.
package localkms

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	kmsservice "k8s.io/kms/pkg/service"
)

// KeySize is the size of every key in the key file.
const KeySize = 32

// Plugin is the plugin of one key file.
type Plugin struct {
	path string

	mu      sync.Mutex // guards the fields below
	keys    []kek      // current first
	modTime time.Time
	size    int64
	loadErr error // why the last change of the file was refused
}

type kek struct {
	id   string
	aead cipher.AEAD
}

var _ kmsservice.Service = (*Plugin)(nil)

// Open reads the key file at path.
func Open(path string) (*Plugin, error) {
	p := &Plugin{path: path}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.reloadLocked(); err != nil {
		return nil, err
	}
	return p, nil
}

// NewKeyFileLine returns a fresh random key as a key file line.
func NewKeyFileLine() (string, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(k) + "\n", nil
}

// reloadLocked re-reads the file if it changed; on error the keys in use
// stay. Caller holds p.mu.
func (p *Plugin) reloadLocked() error {
	fi, err := os.Stat(p.path)
	if err != nil {
		p.loadErr = fmt.Errorf("key file: %w", err)
		return p.loadErr
	}
	if p.keys != nil && fi.ModTime().Equal(p.modTime) && fi.Size() == p.size {
		return p.loadErr
	}
	data, err := os.ReadFile(p.path)
	if err != nil {
		p.loadErr = fmt.Errorf("key file: %w", err)
		return p.loadErr
	}
	defer clear(data)
	keys, err := parseKeys(data)
	p.modTime, p.size = fi.ModTime(), fi.Size()
	if err != nil {
		p.loadErr = fmt.Errorf("key file %s: %w", p.path, err)
		return p.loadErr
	}
	p.keys, p.loadErr = keys, nil
	return nil
}

func parseKeys(data []byte) ([]kek, error) {
	var keys []kek
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		raw := make([]byte, base64.StdEncoding.DecodedLen(len(line)))
		m, err := base64.StdEncoding.Decode(raw, line)
		if err != nil || m != KeySize {
			clear(raw)
			return nil, fmt.Errorf("line %d: want a base64 %d-byte key", n, KeySize)
		}
		sum := sha256.Sum256(raw[:m])
		id := "local-" + hex.EncodeToString(sum[:8])
		block, err := aes.NewCipher(raw[:m])
		clear(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, fmt.Errorf("line %d: the same key twice", n)
		}
		seen[id] = true
		keys = append(keys, kek{id: id, aead: aead})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	return keys, nil
}

// current returns the keys after picking up a change of the file, and the
// reason a change was refused.
func (p *Plugin) current() ([]kek, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.reloadLocked()
	return p.keys, err
}

// Status implements kmsservice.Service: healthy unless the file's last
// change was refused; the key ID is the current key's.
func (p *Plugin) Status(context.Context) (*kmsservice.StatusResponse, error) {
	keys, err := p.current()
	healthz := "ok"
	if err != nil {
		healthz = err.Error()
	}
	if len(keys) == 0 {
		return nil, err
	}
	return &kmsservice.StatusResponse{Version: "v2", Healthz: healthz, KeyID: keys[0].id}, nil
}

// Encrypt implements kmsservice.Service: nonce(12) ‖ AES-256-GCM under the
// current key, its key ID as additional data.
func (p *Plugin) Encrypt(_ context.Context, _ string, plaintext []byte) (*kmsservice.EncryptResponse, error) {
	keys, _ := p.current()
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	k := keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &kmsservice.EncryptResponse{Ciphertext: k.aead.Seal(nonce, nonce, plaintext, []byte(k.id)), KeyID: k.id}, nil
}

// Decrypt implements kmsservice.Service with the key of req.KeyID.
func (p *Plugin) Decrypt(_ context.Context, _ string, req *kmsservice.DecryptRequest) ([]byte, error) {
	keys, _ := p.current()
	for _, k := range keys {
		if k.id != req.KeyID {
			continue
		}
		n := k.aead.NonceSize()
		if len(req.Ciphertext) < n {
			return nil, errors.New("ciphertext too short")
		}
		out, err := k.aead.Open(nil, req.Ciphertext[:n], req.Ciphertext[n:], []byte(k.id))
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.id, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("key ID %q is not in the key file", req.KeyID)
}
