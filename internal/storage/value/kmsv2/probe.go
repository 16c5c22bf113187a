package kmsv2

import (
	"context"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/util/uuid"

	regisaes "github.com/regis-dev/regis/internal/storage/value/aes"
)

// Probe asks the plugin for its status. The plugin must be healthy
// ("ok"), speak v2 (or v2beta1, never changing after its first answer) and
// give a usable key ID. When that key ID is not the one values are written
// under, a new seed is generated and encrypted by the plugin under it; when
// it is the same and the plugin is healthy, the seed may write for
// another three minutes. Unlike kube-apiserver (kubernetes#138950), an
// unhealthy status never extends the seed's write time, and a plugin that
// does not speak v2 is never asked to encrypt a seed.
func (p *Provider) Probe(ctx context.Context) error {
	p.probeMu.Lock()
	defer p.probeMu.Unlock()
	return p.probeLocked(ctx)
}

// Healthy reports the plugin's health for /readyz: the last status result
// while it is fresh (20s when healthy, 3s when not), else a new Probe.
func (p *Provider) Healthy(ctx context.Context) error {
	p.probeMu.Lock()
	defer p.probeMu.Unlock()
	ttl := healthyTTL
	if p.lastErr != nil {
		ttl = unhealthyTTL
	}
	if !p.lastProbe.IsZero() && p.cfg.Now().Sub(p.lastProbe) < ttl {
		return p.lastErr
	}
	return p.probeLocked(ctx)
}

// probeLocked is Probe. Caller holds p.probeMu.
func (p *Provider) probeLocked(ctx context.Context) error {
	err := p.statusLocked(ctx)
	p.lastProbe, p.lastErr = p.cfg.Now(), err
	return err
}

func (p *Provider) statusLocked(ctx context.Context) error {
	st, err := p.cfg.Service.Status(ctx)
	if err != nil {
		return fmt.Errorf("kms v2 plugin status: %w", err)
	}
	var errs []error
	healthy := st.Healthz == "ok"
	if !healthy {
		errs = append(errs, fmt.Errorf("got unexpected healthz status: %s", st.Healthz))
	}
	versionOK := false
	switch {
	case st.Version != "v2" && st.Version != "v2beta1":
		errs = append(errs, fmt.Errorf("expected KMSv2 API version v2, got %s", st.Version))
	case p.version != "" && p.version != st.Version:
		errs = append(errs, fmt.Errorf("KMSv2 API version should not change after the initial status check, expected %s, got %s", p.version, st.Version))
	default:
		p.version, versionOK = st.Version, true
	}
	switch err := ValidateKeyID(st.KeyID); {
	case err != nil:
		errs = append(errs, fmt.Errorf("got invalid KMSv2 KeyID hash %q: %w", KeyIDHash(st.KeyID), err))
	case !versionOK:
		// A plugin that does not speak v2 is not given a seed to encrypt.
	default:
		if err := p.useKeyIDLocked(ctx, st.KeyID, healthy); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// useKeyIDLocked makes keyID the write key ID. Caller holds p.probeMu.
func (p *Provider) useKeyIDLocked(ctx context.Context, keyID string, healthy bool) error {
	now := p.cfg.Now()
	cur := p.state.Load()
	if cur != nil && cur.keyID == keyID {
		if healthy {
			next := *cur
			next.expires = now.Add(writeTTL)
			p.state.Store(&next)
		}
		return nil
	}
	seed := make([]byte, regisaes.SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(p.cfg.Random, seed); err != nil {
		return fmt.Errorf("failed to generate a seed: %w", err)
	}
	t, err := regisaes.NewHKDFGCM(seed, p.cfg.Random)
	if err != nil {
		return err
	}
	resp, err := p.cfg.Service.Encrypt(ctx, string(uuid.NewUUID()), seed)
	if err != nil {
		return fmt.Errorf("failed to encrypt DEK, error: %w", err)
	}
	if resp.KeyID != keyID {
		return fmt.Errorf("failed to rotate DEK: plugin encrypted under keyID hash %q, status said %q",
			KeyIDHash(resp.KeyID), KeyIDHash(keyID))
	}
	probe := EncryptedObject{EncryptedData: []byte{0}, KeyID: resp.KeyID, EncryptedDEKSource: resp.Ciphertext,
		Annotations: resp.Annotations, SourceType: SourceHKDFSeed}
	if err := probe.Validate(); err != nil {
		return fmt.Errorf("plugin's encrypted seed: %w", err)
	}
	next := &writeState{
		t:           t,
		keyID:       resp.KeyID,
		source:      resp.Ciphertext,
		annotations: resp.Annotations,
		cacheKey:    newCacheKey(SourceHKDFSeed, resp.Ciphertext, resp.KeyID, resp.Annotations),
		tail:        probe.appendTail(nil),
		expires:     now.Add(writeTTL),
	}
	// Own writes are read back without asking the plugin.
	p.cache.set(next.cacheKey, t)
	p.state.Store(next)
	old := ""
	if cur != nil {
		old = KeyIDHash(cur.keyID)
	}
	p.cfg.Logger.Info("kms v2 key ID in use; new seed", "key_id_hash", KeyIDHash(keyID), "previous_key_id_hash", old)
	return nil
}
