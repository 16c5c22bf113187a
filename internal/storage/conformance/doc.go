// Package conformance runs kube-apiserver's own storage test suite
// (k8s.io/apiserver/pkg/storage/testing) against regis's storage
// implementations. Everything is in _test.go files: k8s.io/apiserver is a
// test-only oracle and never part of the product.
package conformance
