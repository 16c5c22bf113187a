// Package v1 holds the apiregistration.k8s.io/v1 API types (APIService,
// APIServiceList) that kube-apiserver's embedded kube-aggregator serves,
// with the same Go shape, JSON and protobuf field tags as upstream's
// k8s.io/kube-aggregator/pkg/apis/apiregistration/v1, so that their JSON,
// YAML, CBOR and protobuf encodings are upstream's bytes.
//
// regis does not depend on k8s.io/kube-aggregator: the types and their
// DeepCopy methods are written here, and generated.pb.go is upstream's
// protobuf marshalling code for them, copied unchanged (it imports only the
// standard library). The package knows nothing about storage, validation or
// serving: internal/registry/builtin holds the rules of the resource.
//
// The markers below are upstream's that openapi-gen reads (make openapi):
// the OpenAPI definitions are named as kube-aggregator's.
//
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.k8s.kube-aggregator.pkg.apis.apiregistration.v1
// +groupName=apiregistration.k8s.io
package v1
