package encryptionconfig

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/aes"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/secretbox"
)

// ErrKMSv1 refuses a kms provider of apiVersion v1, which kube-apiserver
// only runs behind a deprecated feature gate and regis does not run.
var ErrKMSv1 = errors.New("KMSv1 is deprecated and not supported by regis; use KMS v2 (apiVersion: v2)")

// errNoMatchingPrefix is the error of a value that no provider of the
// resource reads.
var errNoMatchingPrefix = errors.New("no matching prefix found")

// KMSProvider is a running KMS v2 provider: the transformer after
// "k8s:enc:kms:v2:NAME:", its health, and the end of its connection and
// polling.
type KMSProvider interface {
	value.Transformer
	// Healthy reports whether the plugin answers and has given a usable key
	// ID; nil means writes can proceed.
	Healthy(ctx context.Context) error
	// Close ends the provider's goroutines and its connection.
	Close() error
}

// KMSFactory starts the KMS v2 provider of one kms entry. The provider
// lives until Close, not until ctx is done.
type KMSFactory func(ctx context.Context, c KMSConfiguration) (KMSProvider, error)

// KMSv2Plugins is the KMSFactory of real plugins: each kms entry connects
// to its plugin's unix socket (kmsv2.Start), polls its status, and is
// closed with its Set.
func KMSv2Plugins(logger *slog.Logger) KMSFactory {
	return func(ctx context.Context, c KMSConfiguration) (KMSProvider, error) {
		cfg := kmsv2.PluginConfig{Name: c.Name, Endpoint: c.Endpoint, Logger: logger}
		if c.Timeout != nil {
			cfg.Timeout = c.Timeout.Duration
		}
		return kmsv2.Start(ctx, cfg)
	}
}

// BuildOptions are the dependencies of Build. The zero value builds every
// provider but kms.
type BuildOptions struct {
	// Random supplies IVs and nonces; nil means crypto/rand.Reader.
	Random io.Reader
	// KMSv2 starts KMS v2 providers (KMSv2Plugins in a server); nil
	// refuses configurations with kms.
	KMSv2 KMSFactory
	// AESGCMWrites, when set, is called once per aesgcm key at build time
	// with the key's name and fingerprint; the function it returns is
	// called after each value that key encrypts. This is how a server
	// counts writes per aesgcm key against upstream's advice to rotate
	// before 200,000 writes.
	AESGCMWrites func(name, fingerprint string) func()
}

// KeyInfo describes one key (or KMS provider) a resource entry uses, for
// metrics and status. It never holds key material.
type KeyInfo struct {
	Resource string // as configured: "secrets", "*.apps", "*.*"
	Provider string // "aescbc", "aesgcm", "secretbox", "kms", "identity"
	Key      string // the key name; the provider name for kms; "" for identity
	// Fingerprint tells keys of the same name apart without revealing them
	// (see Fingerprint); "" for identity and kms.
	Fingerprint string
	Write       bool // the entry writes with this key
}

// Set is a built configuration: one transformer per configured
// GroupResource. It is immutable; a reload builds a new Set.
type Set struct {
	hash      string
	overrides map[schema.GroupResource]value.Transformer
	keys      []KeyInfo
	kms       []namedKMS
	grace     time.Duration
	closeOnce sync.Once
}

type namedKMS struct {
	name string
	p    KMSProvider
}

// Build builds the transformers of a validated configuration. hash is the
// file's content hash (Hash). On error, every KMS provider already started
// is closed.
func Build(ctx context.Context, cfg *EncryptionConfiguration, hash string, opts BuildOptions) (set *Set, err error) {
	set = &Set{
		hash:      hash,
		overrides: map[schema.GroupResource]value.Transformer{},
	}
	defer func() {
		if err != nil {
			set.Close()
			set = nil
		}
	}()
	chains := map[schema.GroupResource][]value.PrefixTransformer{}
	names := map[schema.GroupResource][]string{}
	for i, rc := range cfg.Resources {
		var chain []value.PrefixTransformer
		var chainNames []string
		var infos []KeyInfo
		for j, pc := range rc.Providers {
			pt, keys, err := set.buildProvider(ctx, pc, opts)
			if err != nil {
				return nil, fmt.Errorf("resources[%d].providers[%d].%s: %w", i, j, pc.providerType(), err)
			}
			chain = append(chain, pt)
			chainNames = append(chainNames, pc.providerType())
			for k, key := range keys {
				infos = append(infos, KeyInfo{Provider: pc.providerType(), Key: key.name, Fingerprint: key.fingerprint, Write: j == 0 && k == 0})
			}
		}
		for _, res := range rc.Resources {
			gr := schema.ParseGroupResource(res)
			// A resource named by several entries reads with all of them,
			// in order, as in kube-apiserver.
			chains[gr] = append(chains[gr], chain...)
			names[gr] = append(names[gr], chainNames...)
			for _, ki := range infos {
				ki.Resource = res
				set.keys = append(set.keys, ki)
			}
		}
	}
	for gr, chain := range chains {
		set.overrides[gr] = &described{
			t:         value.NewPrefixTransformers(errNoMatchingPrefix, chain...),
			rule:      grString(gr),
			providers: strings.Join(names[gr], ", "),
		}
	}
	return set, nil
}

// builtKey names one key of a built provider.
type builtKey struct {
	name, fingerprint string
}

// buildProvider returns the prefix transformer of one provider and its keys
// in order.
func (s *Set) buildProvider(ctx context.Context, pc ProviderConfiguration, opts BuildOptions) (value.PrefixTransformer, []builtKey, error) {
	switch {
	case pc.AESGCM != nil:
		return keyList(aes.GCMPrefix, "aesgcm", pc.AESGCM.Keys, func(name, fp string, k []byte) (value.Transformer, error) {
			t, err := aes.NewGCM(k, opts.Random)
			if err != nil || opts.AESGCMWrites == nil {
				return t, err
			}
			return &countWrites{Transformer: t, inc: opts.AESGCMWrites(name, fp)}, nil
		})
	case pc.AESCBC != nil:
		return keyList(aes.CBCPrefix, "aescbc", pc.AESCBC.Keys, func(_, _ string, k []byte) (value.Transformer, error) { return aes.NewCBC(k, opts.Random) })
	case pc.Secretbox != nil:
		return keyList(secretbox.Prefix, "secretbox", pc.Secretbox.Keys, func(_, _ string, k []byte) (value.Transformer, error) { return secretbox.New(k, opts.Random) })
	case pc.Identity != nil:
		return value.PrefixTransformer{Prefix: []byte{}, Transformer: value.Identity}, []builtKey{{}}, nil
	case pc.KMS != nil:
		return s.buildKMS(ctx, *pc.KMS, opts)
	}
	return value.PrefixTransformer{}, nil, errors.New(noProviderErr)
}

// countWrites counts the values a key encrypts.
type countWrites struct {
	value.Transformer
	inc func()
}

func (c *countWrites) TransformToStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	out, err := c.Transformer.TransformToStorage(ctx, data, dataCtx)
	if err == nil {
		c.inc()
	}
	return out, err
}

func (s *Set) buildKMS(ctx context.Context, c KMSConfiguration, opts BuildOptions) (value.PrefixTransformer, []builtKey, error) {
	switch {
	case c.APIVersion == "v1":
		return value.PrefixTransformer{}, nil, ErrKMSv1
	case c.APIVersion != "v2":
		return value.PrefixTransformer{}, nil, fmt.Errorf("unsupported KMS API version %q", c.APIVersion)
	case opts.KMSv2 == nil:
		return value.PrefixTransformer{}, nil, fmt.Errorf("kms provider %q: KMS v2 is not available in this build", c.Name)
	}
	p, err := opts.KMSv2(ctx, c)
	if err != nil {
		return value.PrefixTransformer{}, nil, fmt.Errorf("kms provider %q: %w", c.Name, err)
	}
	s.kms = append(s.kms, namedKMS{name: c.Name, p: p})
	if c.Timeout != nil {
		s.grace += 2 * c.Timeout.Duration
	}
	return value.PrefixTransformer{Prefix: []byte(kmsv2.Prefix + c.Name + ":"), Transformer: p}, []builtKey{{name: c.Name}}, nil
}

func keyList(prefix, provider string, keys []Key, newKey func(name, fingerprint string, material []byte) (value.Transformer, error)) (value.PrefixTransformer, []builtKey, error) {
	if len(keys) == 0 {
		return value.PrefixTransformer{}, nil, fmt.Errorf("%s provider has no valid keys", provider)
	}
	named := make([]value.NamedKey, 0, len(keys))
	built := make([]builtKey, 0, len(keys))
	for i, k := range keys {
		material, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			return value.PrefixTransformer{}, nil, fmt.Errorf("keys[%d] (%q): %s", i, k.Name, base64EncodingErr)
		}
		fp := Fingerprint(provider, material)
		t, err := newKey(k.Name, fp, material)
		clear(material)
		if err != nil {
			return value.PrefixTransformer{}, nil, fmt.Errorf("keys[%d] (%q): %w", i, k.Name, err)
		}
		named = append(named, value.NamedKey{Name: k.Name, Transformer: t})
		built = append(built, builtKey{name: k.Name, fingerprint: fp})
	}
	return value.PrefixTransformer{Prefix: []byte(prefix), Transformer: value.NewKeyList(provider, named...)}, built, nil
}

// Fingerprint identifies a key of a provider ("aescbc", "aesgcm",
// "secretbox") without revealing it: the first 8 bytes, in hex, of
// HMAC-SHA256 keyed with the key material over "regis key fingerprint v1"
// and the provider. Servers publish it so that a rotation can check that
// they all hold the same material under a key name; it is safe to show.
func Fingerprint(provider string, material []byte) string {
	m := hmac.New(sha256.New, material)
	m.Write([]byte("regis key fingerprint v1\x00" + provider))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Hash is the content hash of the file the Set was built from ("" for a
// nil Set).
func (s *Set) Hash() string {
	if s == nil {
		return ""
	}
	return s.hash
}

// Keys lists the keys each configured resource uses, write key first.
func (s *Set) Keys() []KeyInfo {
	if s == nil {
		return nil
	}
	return append([]KeyInfo(nil), s.keys...)
}

// CloseGracePeriod is how long a replaced Set must stay open for the
// operations that still hold its transformers: twice the sum of the KMS
// timeouts, as in kube-apiserver.
func (s *Set) CloseGracePeriod() time.Duration {
	if s == nil {
		return 0
	}
	return s.grace
}

// Healthy reports the first unhealthy KMS provider, prefixed
// "kms-provider-<i>: " as kube-apiserver's kms-providers check does; nil
// when every provider is healthy or none is configured.
func (s *Set) Healthy(ctx context.Context) error {
	if s == nil {
		return nil
	}
	var errs []error
	for i, k := range s.kms {
		if err := k.p.Healthy(ctx); err != nil {
			errs = append(errs, fmt.Errorf("kms-provider-%d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the Set's KMS providers, once; later calls do nothing.
// Transformers of a closed Set keep working for the providers that hold no
// connection.
func (s *Set) Close() {
	if s == nil {
		return
	}
	s.closeOnce.Do(func() {
		for _, k := range s.kms {
			_ = k.p.Close()
		}
	})
}

// TransformerForResource returns the transformer of gr: the one configured
// for gr, else for gr's group ("*.group"), else for every resource ("*.*"),
// else value.Identity, which refuses encrypted values. A nil Set is the
// unconfigured server: identity everywhere. Events of both APIs are stored
// as core events: pass {Resource: "events"} for events.k8s.io too, as
// kube-apiserver does.
func (s *Set) TransformerForResource(gr schema.GroupResource) value.Transformer {
	if s == nil {
		return value.Identity
	}
	for _, k := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, anyGroupAnyRes} {
		if t, ok := s.overrides[k]; ok {
			return t
		}
	}
	return value.Identity
}
