// Package registry is what regis knows about each resource, and the
// generic strategy that serves them all.
//
// The resource table (Builtin) lists every served resource as data: group,
// version, kind, scope, etcd prefix, storage version, selectable fields,
// status and scale subresources, short names, categories and printer
// columns, plus the few per-kind functions (defaulting, validation) that
// upstream keeps in k8s.io/kubernetes and regis writes itself, tested
// against what a real kube-apiserver stores. A Store serves one row over a
// storage.Interface (from one StorageFactory: the etcd3 store, or a watch
// cache over it); it owns uid, timestamps, generation, finalizers and the
// status/spec split, and maps storage errors to API errors. The namespace
// controller empties deleted namespaces; Bootstrap creates the system
// namespaces and the kubernetes service.
//
// Keys come in two forms. A store key ("/pods/default/web") is relative to the
// etcd prefix and is what the storage layer takes; the etcd3 store prepends
// the --etcd-prefix ("/registry") to make the etcd key
// ("/registry/pods/default/web"). The layout is kube-apiserver's, including
// its irregular prefixes (nodes under "minions", services under
// "services/specs"), so that either server can read the other's etcd.
package registry
