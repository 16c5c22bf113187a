// Package crd serves CustomResourceDefinitions: it does the work of
// kube-apiserver's apiextensions controllers (accepted names, the
// NamesAccepted, Established, NonStructuralSchema and
// KubernetesAPIApprovalPolicyConformant conditions, the cleanup of custom
// resources when a CRD is deleted, the reduced verbs of a terminating
// CRD in discovery) and turns each established CRD into rows of the
// registry, one per served version, over one storage at the storage
// version (an etcd store of JSON and its watch cache).
//
// Served versions convert to and from the storage version: by changing
// apiVersion under conversion None, by calling the CRD's conversion
// webhook under Webhook (webhook.go: ConversionReview v1 or v1beta1 over
// HTTPS, upstream's checks and errors; convert.go: writes, gets, lists
// in one review, watch events converted once per version;
// resolve.go: service references dialed at a ready endpoint, as regis
// has no kube-proxy).
//
// The schema work (structural schemas, pruning, defaulting, validation,
// CEL, printer columns, selectable fields) is internal/crdschema's, on
// upstream's libraries; the CRD objects themselves are a built-in row
// (internal/registry/builtin).
package crd
