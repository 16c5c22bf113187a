// Package registry holds what regis knows about each resource: for now, where
// its objects live in etcd.
//
// Keys come in two forms. A store key ("/pods/default/web") is relative to the
// etcd prefix and is what the storage layer takes; the etcd3 store prepends
// the --etcd-prefix ("/registry") to make the etcd key
// ("/registry/pods/default/web"). The layout is kube-apiserver's, including
// its irregular prefixes (nodes under "minions", services under
// "services/specs"), so that either server can read the other's etcd.
package registry
