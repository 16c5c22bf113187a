// Package etcd is regis's side of etcd itself, below the storage layer: it
// runs the embedded single-member etcd that `regis serve` uses by default,
// builds clients with kube-apiserver's settings (optionally over TLS), runs
// the compaction protocol that kube-apiserver servers share through the raw
// key compact_rev_key, and probes etcd health for /healthz and /readyz.
//
// It knows nothing about resources, codecs or encryption: it deals in etcd
// keys, revisions and clients.
package etcd
