// Package e2e tests encryption at rest end to end: EncryptionConfiguration
// files, reloaded with no restart, under the etcd3 store on a real etcd.
// It holds tests only.
package e2e
