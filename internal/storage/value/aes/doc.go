// Package aes holds the AES transformers of encryption at rest, byte for
// byte as kube-apiserver writes them:
//
//	aesgcm: k8s:enc:aesgcm:v1:NAME: ‖ nonce(12, random) ‖ AES-GCM ciphertext ‖ tag(16), the etcd key as additional data
//	aescbc: k8s:enc:aescbc:v1:NAME: ‖ IV(16, random) ‖ AES-CBC(plaintext ‖ PKCS#7 padding), no additional data
//
// and the HKDF-SHA256 extended-nonce AES-GCM transformer that KMS v2 seeds
// drive. The transformers here produce and consume the bytes after
// "PREFIX NAME:"; value.NewKeyList adds the key name and
// value.NewPrefixTransformers the provider prefix.
package aes
