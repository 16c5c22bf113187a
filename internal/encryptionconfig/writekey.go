package encryptionconfig

import (
	"encoding/base64"
	"encoding/json"
	"slices"
)

// KeysOf lists the keys of a parsed configuration as Set.Keys lists those
// of the built one, without building it (no KMS plugin is contacted).
func KeysOf(cfg *EncryptionConfiguration) []KeyInfo {
	var out []KeyInfo
	for _, rc := range cfg.Resources {
		var infos []KeyInfo
		for j, p := range rc.Providers {
			for k, ki := range providerKeys(p) {
				ki.Write = j == 0 && k == 0
				infos = append(infos, ki)
			}
		}
		for _, res := range rc.Resources {
			for _, ki := range infos {
				ki.Resource = res
				out = append(out, ki)
			}
		}
	}
	return out
}

// providerKeys are the keys of one provider element, in order.
func providerKeys(p ProviderConfiguration) []KeyInfo {
	name := p.providerType()
	switch {
	case p.Identity != nil:
		return []KeyInfo{{Provider: name}}
	case p.KMS != nil:
		return []KeyInfo{{Provider: name, Key: p.KMS.Name}}
	}
	keys := p.keys()
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		ki := KeyInfo{Provider: name, Key: k.Name}
		if material, err := base64.StdEncoding.DecodeString(k.Secret); err == nil {
			ki.Fingerprint = Fingerprint(name, material)
			clear(material)
		}
		out = append(out, ki)
	}
	return out
}

// keys returns the key list of an aescbc, aesgcm or secretbox element.
func (p ProviderConfiguration) keys() []Key {
	switch {
	case p.AESCBC != nil:
		return p.AESCBC.Keys
	case p.AESGCM != nil:
		return p.AESGCM.Keys
	case p.Secretbox != nil:
		return p.Secretbox.Keys
	}
	return nil
}

// WithWriteKey returns a copy of cfg in which entry i writes with the key
// of that provider and name (and fingerprint, when not empty): the key
// moves first in its list and its provider element first in the entry;
// every key stays readable. It reports false when the entry has no such
// key. A server uses it to keep writing with its current key while other
// servers cannot read the new one yet.
func (cfg *EncryptionConfiguration) WithWriteKey(i int, provider, name, fingerprint string) (*EncryptionConfiguration, bool) {
	if i < 0 || i >= len(cfg.Resources) {
		return nil, false
	}
	out := cfg.deepCopy()
	rc := &out.Resources[i]
	for pi, p := range rc.Providers {
		if p.providerType() != provider {
			continue
		}
		for ki, info := range providerKeys(p) {
			if info.Key != name || (fingerprint != "" && info.Fingerprint != "" && info.Fingerprint != fingerprint) {
				continue
			}
			if keys := p.keys(); len(keys) > 0 && ki > 0 {
				k := keys[ki]
				moved := slices.Insert(slices.Delete(slices.Clone(keys), ki, ki+1), 0, k)
				switch {
				case p.AESCBC != nil:
					p.AESCBC.Keys = moved
				case p.AESGCM != nil:
					p.AESGCM.Keys = moved
				case p.Secretbox != nil:
					p.Secretbox.Keys = moved
				}
			}
			rc.Providers = slices.Insert(slices.Delete(rc.Providers, pi, pi+1), 0, p)
			return out, true
		}
	}
	return nil, false
}

// deepCopy copies a configuration through JSON: no pointer is shared.
func (cfg *EncryptionConfiguration) deepCopy() *EncryptionConfiguration {
	data, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	out := new(EncryptionConfiguration)
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	clear(data)
	return out
}
