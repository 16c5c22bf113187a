package openapi

import (
	"slices"

	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/regis-dev/regis/internal/openapi/generated"
)

// Models returns the definitions of every type regis knows, each tagged
// with the kinds it is registered as and referring to the others by
// "#/components/schemas/<name>": what server-side apply's type converter
// reads (upstream's getOpenAPIModels, which builds them with
// BuildOpenAPIDefinitionsForResources from the v3 configuration).
func Models() (map[string]*spec.Schema, error) {
	a := &API{}
	cfg := a.v3Config()
	defs := generated.GetOpenAPIDefinitions(func(string) spec.Ref { return spec.Ref{} })
	names := make([]string, 0, len(defs))
	for name := range defs {
		if openAPIType, _ := common.OpenAPITypeFormat(name); openAPIType == "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return builder3.BuildOpenAPIDefinitionsForResources(cfg, names...)
}
