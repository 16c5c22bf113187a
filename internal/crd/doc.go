// Package crd serves CustomResourceDefinitions: it does the work of
// kube-apiserver's apiextensions controllers (accepted names, the
// NamesAccepted and Established conditions, the cleanup of custom
// resources when a CRD is deleted) and turns each established CRD into
// rows of the registry, one per served version, over one storage at the
// storage version (an etcd store of JSON and its watch cache).
//
// The schema work (structural schemas, pruning, defaulting, validation,
// CEL, printer columns, selectable fields) is internal/crdschema's, on
// upstream's libraries; the CRD objects themselves are a built-in row
// (internal/registry/builtin).
package crd
