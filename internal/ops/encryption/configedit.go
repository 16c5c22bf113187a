package encryption

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
)

// newKey is the key a rotation adds. secret is base64 material: it goes
// into the configuration files and nowhere else.
type newKey struct {
	ref    peers.KeyRef
	secret string
}

// readConfig reads and validates a configuration file.
func readConfig(path string) (*encryptionconfig.EncryptionConfiguration, os.FileMode, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	f, err := encryptionconfig.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	return f.Config, fi.Mode().Perm(), nil
}

// writeConfig validates cfg and replaces path with it atomically (a
// temporary file renamed over it), keeping its mode. Comments of the
// original file are not kept.
func writeConfig(path string, mode os.FileMode, cfg *encryptionconfig.EncryptionConfiguration) error {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	if _, err := encryptionconfig.Parse(data); err != nil {
		return fmt.Errorf("the edited configuration of %s is not valid: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// findEntry returns the index of the entry that writes gr: the first one
// naming gr exactly, else its "*.<group>", else "*.*".
func findEntry(cfg *encryptionconfig.EncryptionConfiguration, gr schema.GroupResource) (int, error) {
	for _, want := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
		for i, rc := range cfg.Resources {
			for _, r := range rc.Resources {
				if schema.ParseGroupResource(r) == want {
					return i, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no entry of the encryption configuration covers %s", gr)
}

// providerName is the name of a provider element as KeyRefs spell it.
func providerName(p encryptionconfig.ProviderConfiguration) string {
	switch {
	case p.AESCBC != nil:
		return "aescbc"
	case p.AESGCM != nil:
		return "aesgcm"
	case p.Secretbox != nil:
		return "secretbox"
	case p.KMS != nil:
		return "kms"
	}
	return "identity"
}

// keysOf returns the key list of an aescbc, aesgcm or secretbox element.
func keysOf(p *encryptionconfig.ProviderConfiguration) *[]encryptionconfig.Key {
	switch {
	case p.AESCBC != nil:
		return &p.AESCBC.Keys
	case p.AESGCM != nil:
		return &p.AESGCM.Keys
	case p.Secretbox != nil:
		return &p.Secretbox.Keys
	}
	return nil
}

// refOfKey is the KeyRef of key k of element p.
func refOfKey(p encryptionconfig.ProviderConfiguration, k encryptionconfig.Key) peers.KeyRef {
	name := providerName(p)
	material, err := base64.StdEncoding.DecodeString(k.Secret)
	fp := ""
	if err == nil {
		fp = encryptionconfig.Fingerprint(name, material)
		clear(material)
	}
	return peers.KeyRef{Provider: name, Key: k.Name, Fingerprint: fp}
}

// writeKeyOf is the key an entry writes with.
func writeKeyOf(rc encryptionconfig.ResourceConfiguration) peers.KeyRef {
	p := rc.Providers[0]
	switch {
	case p.KMS != nil:
		return peers.KeyRef{Provider: "kms", Key: p.KMS.Name}
	case p.Identity != nil:
		return peers.Identity
	}
	return refOfKey(p, (*keysOf(&p))[0])
}

// locate finds ref in an entry: the provider element index, and the key
// index in it (0 for identity and kms). ok is false when absent.
func locate(rc encryptionconfig.ResourceConfiguration, ref peers.KeyRef) (pi, ki int, ok bool) {
	for i, p := range rc.Providers {
		if providerName(p) != ref.Provider {
			continue
		}
		switch {
		case p.Identity != nil:
			return i, 0, true
		case p.KMS != nil:
			if p.KMS.Name == ref.Key {
				return i, 0, true
			}
		default:
			for j, k := range *keysOf(&p) {
				if k.Name == ref.Key && refOfKey(p, k).Same(ref) {
					return i, j, true
				}
			}
		}
	}
	return 0, 0, false
}

// hasKeyName reports whether an entry has a key of that provider and name,
// whatever its material.
func hasKeyName(rc encryptionconfig.ResourceConfiguration, provider, name string) bool {
	for _, p := range rc.Providers {
		if providerName(p) != provider || keysOf(&p) == nil {
			continue
		}
		for _, k := range *keysOf(&p) {
			if k.Name == name {
				return true
			}
		}
	}
	return false
}

// addReadKey adds k to entry i as a read key, second: into the write
// provider's key list if it is of k's provider, else as a new provider
// element after the first. Already there, it does nothing.
func addReadKey(cfg *encryptionconfig.EncryptionConfiguration, i int, k newKey) {
	rc := &cfg.Resources[i]
	if _, _, ok := locate(*rc, k.ref); ok {
		return
	}
	key := encryptionconfig.Key{Name: k.ref.Key, Secret: k.secret}
	if first := &rc.Providers[0]; providerName(*first) == k.ref.Provider {
		keys := keysOf(first)
		*keys = slices.Insert(*keys, 1, key)
		return
	}
	p := encryptionconfig.ProviderConfiguration{}
	list := []encryptionconfig.Key{key}
	switch k.ref.Provider {
	case "aescbc":
		p.AESCBC = &encryptionconfig.AESConfiguration{Keys: list}
	case "aesgcm":
		p.AESGCM = &encryptionconfig.AESConfiguration{Keys: list}
	case "secretbox":
		p.Secretbox = &encryptionconfig.SecretboxConfiguration{Keys: list}
	}
	rc.Providers = slices.Insert(rc.Providers, 1, p)
}

// promote makes ref the write key of entry i: first in its key list, its
// provider element first.
func promote(cfg *encryptionconfig.EncryptionConfiguration, i int, ref peers.KeyRef) error {
	rc := &cfg.Resources[i]
	pi, ki, ok := locate(*rc, ref)
	if !ok {
		return fmt.Errorf("%s is not in the configuration's entry %d", ref, i)
	}
	if keys := keysOf(&rc.Providers[pi]); keys != nil && ki > 0 {
		k := (*keys)[ki]
		*keys = slices.Insert(slices.Delete(*keys, ki, ki+1), 0, k)
	}
	if pi > 0 {
		p := rc.Providers[pi]
		rc.Providers = slices.Insert(slices.Delete(rc.Providers, pi, pi+1), 0, p)
	}
	return nil
}

// drop removes ref from entry i (a provider element left without keys
// goes too). It refuses to remove the write key. Already gone, it does
// nothing.
func drop(cfg *encryptionconfig.EncryptionConfiguration, i int, ref peers.KeyRef) error {
	rc := &cfg.Resources[i]
	pi, ki, ok := locate(*rc, ref)
	if !ok {
		return nil
	}
	if pi == 0 && ki == 0 {
		return fmt.Errorf("%s is the write key of the configuration's entry %d", ref, i)
	}
	if keys := keysOf(&rc.Providers[pi]); keys != nil && len(*keys) > 1 {
		*keys = slices.Delete(*keys, ki, ki+1)
		return nil
	}
	rc.Providers = slices.Delete(rc.Providers, pi, pi+1)
	return nil
}

// RulesOfConfig lists the rules of a parsed configuration as
// peers.RulesOf lists those of a built one, without building it (no KMS
// plugin is contacted): what status compares stored values with.
func RulesOfConfig(cfg *encryptionconfig.EncryptionConfiguration) []peers.Rule {
	return peers.RulesOfKeys(encryptionconfig.KeysOf(cfg))
}
