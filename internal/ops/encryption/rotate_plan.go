package encryption

// The plan of a rotation: the new key, the configuration files edited in
// step, and the state saved in etcd so that an interrupted rotation resumes.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
)

// plan picks the new key of a fresh rotation and records it.
func (r *rotator) plan(cfg *encryptionconfig.EncryptionConfiguration, idx int) error {
	rc := cfg.Resources[idx]
	old := writeKeyOf(rc)
	provider := r.o.Provider
	if provider == "" {
		provider = old.Provider
		if provider != "aescbc" && provider != "aesgcm" && provider != "secretbox" {
			provider = "aescbc"
		}
	}
	switch provider {
	case "aescbc", "aesgcm", "secretbox":
	default:
		return fmt.Errorf("a rotation adds an aescbc, aesgcm or secretbox key, not %q (KMS v2 keys rotate in the plugin; then run rewrite)", provider)
	}
	name := r.o.NewKeyName
	if name == "" {
		name = nextKeyName(old.Key)
	}
	if strings.Contains(name, ":") || name == "" {
		return fmt.Errorf("invalid key name %q", name)
	}
	if hasKeyName(rc, provider, name) {
		return fmt.Errorf("the entry of %s already has a %s key named %q: choose another --new-key-name", r.o.Resource, provider, name)
	}
	secret := r.o.NewKeySecret
	if secret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		secret = base64.StdEncoding.EncodeToString(b)
		clear(b)
	}
	material, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return errors.New("the new key's secret is not valid base64")
	}
	ref := peers.KeyRef{Provider: provider, Key: name, Fingerprint: encryptionconfig.Fingerprint(provider, material)}
	clear(material)
	r.rec = rotation{Resource: r.o.Resource.String(), Old: old, New: ref, Phase: PhaseAdd, Started: time.Now().UTC()}
	r.pending = &newKey{ref: ref, secret: secret}
	return nil
}

// resumeNewKey finds the new key of a recorded rotation in the files. A
// rotation interrupted before its files held the new key starts again
// with a new one.
func (r *rotator) resumeNewKey(cfg *encryptionconfig.EncryptionConfiguration, idx int) error {
	if pi, ki, ok := locate(cfg.Resources[idx], r.rec.New); ok {
		// The other files get it from the first one, should an
		// interruption have left them without it.
		p := cfg.Resources[idx].Providers[pi]
		r.pending = &newKey{ref: r.rec.New, secret: (*keysOf(&p))[ki].Secret}
		return nil
	}
	if r.rec.Phase != PhaseAdd {
		return fmt.Errorf("the rotation record is at %s but %s holds no %s; restore the file or delete the record %s",
			r.rec.Phase, r.o.ConfigPaths[0], r.rec.New, rotationKey(r.layout))
	}
	o := r.o
	o.NewKeyName = r.rec.New.Key
	r.o = o
	return r.plan(cfg, idx)
}

// nextKeyName counts up a trailing number ("key1" → "key2"), else uses
// the time.
func nextKeyName(old string) string {
	if m := trailingNumber.FindStringSubmatch(old); m != nil {
		n, err := strconv.Atoi(m[2])
		if err == nil {
			return m[1] + strconv.Itoa(n+1)
		}
	}
	return "key-" + time.Now().UTC().Format("20060102T150405Z")
}

var trailingNumber = regexp.MustCompile(`^(.*?)(\d+)$`)

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return 0
}

func (r *rotator) load(ctx context.Context) (*rotation, error) {
	resp, err := r.o.Client.Get(ctx, rotationKey(r.layout))
	if err != nil {
		return nil, fmt.Errorf("read the rotation record: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	var rec rotation
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return nil, fmt.Errorf("rotation record: %w", err)
	}
	return &rec, nil
}

func (r *rotator) save(ctx context.Context) error {
	r.rec.Updated = time.Now().UTC()
	data, err := json.Marshal(r.rec)
	if err != nil {
		return err
	}
	if _, err := r.o.Client.Put(ctx, rotationKey(r.layout), string(data)); err != nil {
		return fmt.Errorf("save the rotation record: %w", err)
	}
	return nil
}

// entryGRs are the resources of the entry, as GroupResources (patterns
// for wildcards).
func (r *rotator) entryGRs() []schema.GroupResource {
	out := make([]schema.GroupResource, len(r.entry))
	for i, s := range r.entry {
		out[i] = schema.ParseGroupResource(s)
	}
	return out
}

// editAll applies edit to every file.
func (r *rotator) editAll(idx int, edit func(*encryptionconfig.EncryptionConfiguration, int) error) error {
	for _, p := range r.o.ConfigPaths {
		cfg, mode, err := readConfig(p)
		if err != nil {
			return err
		}
		i, err := findEntry(cfg, r.o.Resource)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := edit(cfg, i); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := writeConfig(p, mode, cfg); err != nil {
			return err
		}
	}
	return nil
}
