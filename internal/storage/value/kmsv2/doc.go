// Package kmsv2 is the KMS v2 provider of encryption at rest, byte for byte
// as kube-apiserver writes it:
//
//	k8s:enc:kms:v2:NAME: ‖ EncryptedObject (protobuf)
//
// where EncryptedObject carries the KMS key ID, the seed encrypted by the
// plugin (the DEK source), the plugin's annotations, and the value sealed
// with AES-256-GCM under a key derived per value from the seed with
// HKDF-SHA256 (Expand only), the etcd key as additional data.
//
// A seed is generated locally and reused until the plugin's key ID changes;
// the plugin only encrypts one seed per key ID and decrypts each seed once
// (decrypted seeds are cached). The plugin's status is polled: writes stop
// three minutes after the last status that gave a usable key ID.
package kmsv2

// Prefix starts every value a KMS v2 provider writes; the provider name and a
// colon follow it.
const Prefix = "k8s:enc:kms:v2:"
