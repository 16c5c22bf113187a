// Package kmsv2test is a KMS v2 plugin for tests: an in-memory key
// encryption key per key ID, switchable key ID and health, call counts, and
// a gRPC server on a unix socket. Not for production.
package kmsv2test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"
)

// Plugin is an in-memory KMS v2 plugin. Its zero value is not usable; use New.
type Plugin struct {
	// Calls to each method, for tests of caching.
	Statuses, Encrypts, Decrypts atomic.Int64

	mu      sync.Mutex // guards the fields below
	keyID   string
	healthz string
	version string
	keks    map[string]cipher.AEAD // every key ID ever used, so old values decrypt
	fail    error                  // returned by every call when set
}

// New returns a healthy v2 plugin whose key ID is keyID.
func New(keyID string) *Plugin {
	p := &Plugin{healthz: "ok", version: "v2", keks: map[string]cipher.AEAD{}}
	p.SetKeyID(keyID)
	return p
}

// SetKeyID rotates the plugin's key: new seeds are encrypted under keyID.
func (p *Plugin) SetKeyID(keyID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keyID = keyID
	if _, ok := p.keks[keyID]; ok {
		return
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	block, _ := aes.NewCipher(k)
	p.keks[keyID], _ = cipher.NewGCM(block)
}

// SetHealthz sets what Status reports as healthz ("ok" is healthy).
func (p *Plugin) SetHealthz(h string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.healthz = h
}

// SetVersion sets what Status reports as version.
func (p *Plugin) SetVersion(v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.version = v
}

// SetFailure makes every call fail with err (nil to stop).
func (p *Plugin) SetFailure(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

var _ kmsservice.Service = (*Plugin)(nil)

// Status implements kmsservice.Service.
func (p *Plugin) Status(context.Context) (*kmsservice.StatusResponse, error) {
	p.Statuses.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	return &kmsservice.StatusResponse{Version: p.version, Healthz: p.healthz, KeyID: p.keyID}, nil
}

// Encrypt implements kmsservice.Service: nonce ‖ AES-GCM(KEK, plaintext,
// AAD = key ID), with annotation "kmsv2test.regis.dev" naming the test.
func (p *Plugin) Encrypt(_ context.Context, _ string, plaintext []byte) (*kmsservice.EncryptResponse, error) {
	p.Encrypts.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	aead := p.keks[p.keyID]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &kmsservice.EncryptResponse{
		Ciphertext:  aead.Seal(nonce, nonce, plaintext, []byte(p.keyID)),
		KeyID:       p.keyID,
		Annotations: map[string][]byte{"kmsv2test.regis.dev": []byte("test plugin")},
	}, nil
}

// Decrypt implements kmsservice.Service.
func (p *Plugin) Decrypt(_ context.Context, _ string, req *kmsservice.DecryptRequest) ([]byte, error) {
	p.Decrypts.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	aead, ok := p.keks[req.KeyID]
	if !ok {
		return nil, fmt.Errorf("unknown key ID")
	}
	n := aead.NonceSize()
	if len(req.Ciphertext) < n {
		return nil, errors.New("ciphertext too short")
	}
	return aead.Open(nil, req.Ciphertext[:n], req.Ciphertext[n:], []byte(req.KeyID))
}

// Serve serves p over gRPC on a new unix socket until the test ends and
// returns its endpoint ("unix:///…/kms.sock").
func Serve(t testing.TB, p kmsservice.Service) string {
	t.Helper()
	// A short directory: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "kms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "kms.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	kmsapi.RegisterKeyManagementServiceServer(srv, kmsservice.NewGRPCService(sock, 0, p))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return "unix://" + sock
}
