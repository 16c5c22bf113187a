package kmsv2

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/util/uuid"
	kmsservice "k8s.io/kms/pkg/service"

	"github.com/regis-dev/regis/internal/storage/value"
	regisaes "github.com/regis-dev/regis/internal/storage/value/aes"
)

// Service is the KMS v2 plugin API: Status, Encrypt and Decrypt of key
// material. The gRPC client of Dial implements it, and so do test fakes.
type Service = kmsservice.Service

// Lifetimes of the write seed, as kube-apiserver's.
const (
	// writeTTL is how long a seed may write after the last status that
	// confirmed its key ID.
	writeTTL = 3 * time.Minute
	// healthyTTL and unhealthyTTL are how long a status result answers
	// health checks before the plugin is asked again.
	healthyTTL   = 20 * time.Second
	unhealthyTTL = 3 * time.Second
)

// Config configures a Provider. Name and Service are required.
type Config struct {
	// Name is the provider's name in the configuration; values carry it
	// after Prefix.
	Name string
	// Service is the plugin.
	Service Service
	// Timeout bounds a plugin call made for a read whose caller went away;
	// zero means 3s.
	Timeout time.Duration
	// Random supplies seeds, info and nonces; nil means crypto/rand.Reader.
	Random io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger logs key ID changes and plugin failures (key IDs as hashes);
	// nil means slog.Default().
	Logger *slog.Logger
}

// Provider is the transformer of one KMS v2 provider (the bytes after
// "k8s:enc:kms:v2:NAME:"). It starts no goroutine: Probe, which asks the
// plugin for its status and replaces the seed when the key ID changed, is
// run by its owner (Plugin polls it) and by Healthy.
type Provider struct {
	cfg   Config // set in New, never written again
	cache *dekCache

	state atomic.Pointer[writeState] // nil until the first usable status

	probeMu   sync.Mutex // serializes Probe; guards the fields below
	version   string     // the plugin's API version, fixed at its first answer
	lastProbe time.Time
	lastErr   error
}

// writeState is the seed values are written with, immutable once stored.
type writeState struct {
	t           value.Transformer // HKDF AES-GCM over the seed
	keyID       string
	source      []byte // the seed encrypted by the plugin
	annotations map[string][]byte
	cacheKey    cacheKey
	tail        []byte    // the EncryptedObject fields after EncryptedData, validated
	expires     time.Time // writes fail after it
}

// New returns the provider of cfg. It does not call the plugin: call Probe.
func New(cfg Config) (*Provider, error) {
	switch {
	case cfg.Name == "":
		return nil, errors.New("kms v2 provider: Name is required")
	case cfg.Service == nil:
		return nil, fmt.Errorf("kms v2 provider %q: Service is required", cfg.Name)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("kms_provider", cfg.Name)
	return &Provider{cfg: cfg, cache: newDEKCache(cfg.Now)}, nil
}

// TransformFromStorage reads a value with the seed it names, asking the
// plugin to decrypt the seed on its first use. The value is stale when its
// key ID is not the plugin's current one, or its seed is not a KDF seed.
func (p *Provider) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	o, err := UnmarshalEncryptedObject(data)
	if err != nil {
		return nil, false, err
	}
	ck := newCacheKey(o.SourceType, o.EncryptedDEKSource, o.KeyID, o.Annotations)
	t, _, err := p.cache.get(ctx, ck, func() (value.Reader, error) { return p.decryptSource(ctx, o) })
	if err != nil {
		return nil, false, err
	}
	out, _, err := t.TransformFromStorage(ctx, o.EncryptedData, dataCtx)
	if err != nil {
		return nil, false, err
	}
	s := p.state.Load()
	stale := s == nil || o.KeyID != s.keyID || o.SourceType != SourceHKDFSeed
	return out, stale, nil
}

// decryptSource asks the plugin for the seed (or key) of o and builds its
// read transformer. The call outlives a cancelled caller, within Timeout:
// other readers may be waiting for the same seed.
func (p *Provider) decryptSource(ctx context.Context, o *EncryptedObject) (value.Reader, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.Timeout)
	defer cancel()
	plain, err := p.cfg.Service.Decrypt(ctx, string(uuid.NewUUID()), &kmsservice.DecryptRequest{
		Ciphertext:  o.EncryptedDEKSource,
		KeyID:       o.KeyID,
		Annotations: o.Annotations,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to decrypt DEK, error: %w", err)
	}
	defer clear(plain)
	if o.SourceType == SourceHKDFSeed {
		return regisaes.NewHKDFGCM(plain, p.cfg.Random)
	}
	return newGCMReader(plain)
}

// TransformToStorage seals data with the current seed.
func (p *Provider) TransformToStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	s := p.state.Load()
	if s == nil {
		return nil, fmt.Errorf("kms v2 provider %q has no usable key yet: the plugin has not given a key ID", p.cfg.Name)
	}
	if now := p.cfg.Now(); now.After(s.expires) {
		return nil, fmt.Errorf("encryptedDEKSource with keyID hash %q expired at %s (current time is %s)",
			KeyIDHash(s.keyID), s.expires.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	sealed, err := s.t.TransformToStorage(ctx, data, dataCtx)
	if err != nil {
		return nil, err
	}
	// EncryptedObject{EncryptedData: sealed, and the seed's fields}, which
	// were validated when the seed was made; sealed is never empty.
	out := make([]byte, 0, protowire.SizeTag(fieldData)+protowire.SizeBytes(len(sealed))+len(s.tail))
	out = appendBytes(out, fieldData, sealed)
	return append(out, s.tail...), nil
}

// KeyIDHash is how key IDs appear in errors, logs and metrics:
// "sha256:" + hex(SHA-256(keyID)), "" for "".
func KeyIDHash(keyID string) string {
	if keyID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(keyID))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// KeyID returns the key ID new values are written under ("" before the
// first usable status).
func (p *Provider) KeyID() string {
	if s := p.state.Load(); s != nil {
		return s.keyID
	}
	return ""
}

// gcmReader reads values sealed with a DEK used directly as the AES-GCM key
// (SourceAESGCMKey): nonce(12) ‖ ciphertext ‖ tag, the etcd key as
// additional data. It never writes.
type gcmReader struct{ aead cipher.AEAD }

func newGCMReader(key []byte) (value.Reader, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("DEK of %d bytes: %w", len(key), errors.New("not an AES key"))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return gcmReader{aead: aead}, nil
}

func (g gcmReader) TransformFromStorage(_ context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	n := g.aead.NonceSize()
	if len(data) < n {
		return nil, false, regisaes.ErrDataTooShort
	}
	out, err := g.aead.Open(nil, data[:n], data[n:], dataCtx.AuthenticatedData())
	return out, false, err
}
