// Package encryptionconfig reads kube-apiserver's EncryptionConfiguration
// (apiserver.config.k8s.io/v1), validates it as kube-apiserver does, builds
// a value.Transformer per resource from it, and reloads it when the file
// changes, with no restart.
//
// The pieces, in the order a server uses them:
//
//	set, err := Load(ctx, path, BuildOptions{KMSv2: KMSv2Plugins(log)}) // refuse to start on err
//	ts := NewTransformers(set)            // stores call ts.TransformerForResource(gr) once
//	r, _ := NewReloader(ReloaderConfig{Path: path, Transformers: ts, ...})
//	go r.Run(ctx)                         // owner cancels ctx to stop it
//
// A Set is immutable; a reload builds a new one and swaps it in atomically,
// so the transformer a store holds uses the new configuration from its next
// operation, and the replaced Set's KMS connections close after a grace
// period.
//
// KMS v1 (kms without apiVersion, or apiVersion v1) is validated but
// refused when building: regis neither writes nor reads KMS v1 values, and a
// k8s:enc:kms:v1: value fails to read with an error naming it. Migrate such
// data to KMS v2 (or another provider) before moving it to regis.
//
// Errors and logs of this package name fields, indexes, resources, providers
// and key names, never key material.
package encryptionconfig

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The accepted kinds: the current one, and the legacy alias kube-apiserver
// still reads.
const (
	APIVersion       = "apiserver.config.k8s.io/v1"
	Kind             = "EncryptionConfiguration"
	LegacyAPIVersion = "v1"
	LegacyKind       = "EncryptionConfig"
)

// EncryptionConfiguration is apiserver.config.k8s.io/v1 EncryptionConfiguration:
// an ordered list of resource entries, each with its ordered providers. The
// first provider of an entry writes; all of them read.
type EncryptionConfiguration struct {
	APIVersion string                  `json:"apiVersion,omitempty"`
	Kind       string                  `json:"kind,omitempty"`
	Resources  []ResourceConfiguration `json:"resources"`
}

// ResourceConfiguration is one entry of resources: the resources it covers
// ("secrets", "configmaps.", "*.apps", "*.", "*.*", "pandas.bears.example")
// and its providers in order.
type ResourceConfiguration struct {
	Resources []string                `json:"resources"`
	Providers []ProviderConfiguration `json:"providers"`
}

// ProviderConfiguration is one provider; exactly one field is set.
type ProviderConfiguration struct {
	AESGCM    *AESConfiguration       `json:"aesgcm,omitempty"`
	AESCBC    *AESConfiguration       `json:"aescbc,omitempty"`
	Secretbox *SecretboxConfiguration `json:"secretbox,omitempty"`
	Identity  *IdentityConfiguration  `json:"identity,omitempty"`
	KMS       *KMSConfiguration       `json:"kms,omitempty"`
}

// AESConfiguration holds the keys of aesgcm or aescbc, the write key first.
type AESConfiguration struct {
	Keys []Key `json:"keys"`
}

// SecretboxConfiguration holds the keys of secretbox, the write key first.
type SecretboxConfiguration struct {
	Keys []Key `json:"keys"`
}

// Key is a named key; Secret is its base64 (standard encoding) material.
// Its String and GoString never show Secret.
type Key struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// String implements fmt.Stringer without the secret.
func (k Key) String() string { return fmt.Sprintf("Name: %s, Secret: [REDACTED]", k.Name) }

// GoString implements fmt.GoStringer without the secret.
func (k Key) GoString() string { return fmt.Sprintf("Key{Name: %q, Secret: [REDACTED]}", k.Name) }

// IdentityConfiguration is the identity provider: values stored as they are.
type IdentityConfiguration struct{}

// KMSConfiguration is a KMS plugin. Defaults (as kube-apiserver): APIVersion
// "v1", Timeout 3s, CacheSize 1000 for v1.
type KMSConfiguration struct {
	APIVersion string           `json:"apiVersion"`
	Name       string           `json:"name"`
	CacheSize  *int32           `json:"cachesize,omitempty"`
	Endpoint   string           `json:"endpoint"`
	Timeout    *metav1.Duration `json:"timeout,omitempty"`
}

// providerType names the provider set in p ("" when none), as the field is
// spelled in the file.
func (p ProviderConfiguration) providerType() string {
	switch {
	case p.AESGCM != nil:
		return "aesgcm"
	case p.AESCBC != nil:
		return "aescbc"
	case p.Secretbox != nil:
		return "secretbox"
	case p.KMS != nil:
		return "kms"
	case p.Identity != nil:
		return "identity"
	}
	return ""
}

// setFields lists every provider field set in p, in file spelling.
func (p ProviderConfiguration) setFields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"aesgcm", p.AESGCM != nil},
		{"aescbc", p.AESCBC != nil},
		{"secretbox", p.Secretbox != nil},
		{"identity", p.Identity != nil},
		{"kms", p.KMS != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}
