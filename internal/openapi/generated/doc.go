// Package generated holds the OpenAPI definitions of every type regis
// serves, keyed by model name ("io.k8s.api.core.v1.Pod"):
// zz_generated.openapi.go, made by upstream's openapi-gen
// (k8s.io/kube-openapi/cmd/openapi-gen, at the version go.mod's tool
// directive pins) from the k8s.io/api, k8s.io/apimachinery and
// internal/apis packages that the Makefile's OPENAPI_PKGS lists, as
// k8s.io/kubernetes's hack/update-codegen.sh makes pkg/generated/openapi.
//
// Regenerate it with `make openapi` after a change of those packages (a
// new served group-version, a k8s.io/api upgrade); `make openapi-verify`
// fails when the committed file is stale.
package generated
