// Package identify tells from a stored value's public header which
// provider and key wrote it, without any key: what `regis encryption
// status` counts and `regis inspect` shows.
package identify

import (
	"bytes"
	"fmt"

	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/aes"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/secretbox"
)

// Providers as Info.Provider names them.
const (
	Identity  = "identity"
	AESCBC    = "aescbc"
	AESGCM    = "aesgcm"
	Secretbox = "secretbox"
	KMSv1     = "kms-v1"
	KMSv2     = "kms-v2"
	Unknown   = "unknown" // "k8s:enc:" with a header this package does not know
)

// kmsV1Prefix starts KMS v1 values, which regis does not read.
const kmsV1Prefix = "k8s:enc:kms:v1:"

// Info is what a stored value's header says.
type Info struct {
	Provider string
	// Key is the key name (aescbc, aesgcm, secretbox) or the KMS provider
	// name; "" when the header has none.
	Key string
	// KeyID is the KMS v2 key ID inside the EncryptedObject ("" for others
	// or when it does not parse).
	KeyID string
	// Err is why a KMS v2 EncryptedObject did not parse, if it did not.
	Err error
}

// String renders Info for tables: "identity", "aescbc:key1",
// "kms-v2:vault" (the key ID is for callers to show, hashed or not).
func (i Info) String() string {
	if i.Key == "" {
		return i.Provider
	}
	return i.Provider + ":" + i.Key
}

// Of identifies data, a value as stored in etcd.
func Of(data []byte) Info {
	for _, p := range []struct {
		prefix, name string
	}{
		{aes.CBCPrefix, AESCBC},
		{aes.GCMPrefix, AESGCM},
		{secretbox.Prefix, Secretbox},
		{kmsV1Prefix, KMSv1},
		{kmsv2.Prefix, KMSv2},
	} {
		if !bytes.HasPrefix(data, []byte(p.prefix)) {
			continue
		}
		rest := data[len(p.prefix):]
		info := Info{Provider: p.name}
		name, ok := value.StoredKeyName(rest)
		if !ok {
			return info
		}
		info.Key = name
		if p.name == KMSv2 {
			o, err := kmsv2.UnmarshalEncryptedObject(rest[len(name)+1:])
			if err != nil {
				info.Err = fmt.Errorf("KMS v2 EncryptedObject: %w", err)
			} else {
				info.KeyID = o.KeyID
			}
		}
		return info
	}
	if bytes.HasPrefix(data, []byte("k8s:enc:")) {
		return Info{Provider: Unknown}
	}
	return Info{Provider: Identity}
}
