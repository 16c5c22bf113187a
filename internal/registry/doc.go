// Package registry is the generic strategy that serves every resource, and
// the type of the resource table it serves.
//
// A Resource row describes one resource as data: group, version, kind,
// scope, etcd prefix, storage version, selectable fields, status and scale
// subresources, short names, categories and printer columns, plus the few
// per-kind functions (defaulting, validation, allocation) that upstream
// keeps in k8s.io/kubernetes. The rows come from the caller (New takes
// them; the built-in ones are package builtin's). A Store serves one row
// over a storage.Interface that a StorageFactory makes (the assembly gives
// the etcd3 store, or a watch cache over it: the registry imports neither);
// it owns uid, timestamps, generation, finalizers, graceful deletion and
// the status/spec split, and maps storage errors to API errors. What runs
// in the background (namespace lifecycle, garbage collection, the graceful
// reaper) is package controller's, woken by Registry.Deletions and
// Registry.GracefulDeletions.
//
// Keys come in two forms. A store key ("/pods/default/web") is relative to the
// etcd prefix and is what the storage layer takes; the etcd3 store prepends
// the --etcd-prefix ("/registry") to make the etcd key
// ("/registry/pods/default/web"). The layout is kube-apiserver's, including
// its irregular prefixes (nodes under "minions", services under
// "services/specs"), so that either server can read the other's etcd.
package registry
