package openapi

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/regis-dev/regis/internal/openapi/generated"
)

// API is what the documents describe: the group-versions served and the
// server's version.
type API struct {
	GroupVersions []GroupVersion
	// ModelsV2 and ModelsV3 are definitions beyond the generated ones,
	// by model name: those of custom resources (for /openapi/v2 and for
	// /openapi/v3), whose sample objects name them (see Model).
	ModelsV2, ModelsV3 map[string]*spec.Schema
	// Version is the version /version answers; the documents' info.version
	// is its major.minor ("1.37"), as kube-apiserver's.
	Version version.Info
}

// webServices are upstream's web services: the legacy and named group
// roots, each group, each group-version, and /version.
func (a *API) webServices() []common.RouteContainer {
	out := []common.RouteContainer{
		&webService{root: "/api", routes: []common.Route{discoveryRoute("/api/", "get available API versions", "getAPIVersions", metav1.APIVersions{})}},
		&webService{root: "/apis", routes: []common.Route{discoveryRoute("/apis/", "get available API versions", "getAPIVersions", metav1.APIGroupList{})}},
		&webService{root: "/version", routes: []common.Route{&route{method: "GET", path: "/version/", doc: "get the version information for this server",
			operation: "getCodeVersion", produces: []string{"application/json"}, consumes: []string{"application/json"}, writes: version.Info{}}}},
	}
	groups := map[string]bool{}
	for _, gv := range a.GroupVersions {
		if gv.Group != "" && !groups[gv.Group] {
			groups[gv.Group] = true
			root := "/apis/" + gv.Group
			out = append(out, &webService{root: root, routes: []common.Route{discoveryRoute(root+"/", "get information of a group", "getAPIGroup", metav1.APIGroup{})}})
		}
		out = append(out, webServiceFor(gv))
	}
	return out
}

// infoVersion is the documents' version: major.minor.
func (a *API) infoVersion() string {
	return strings.TrimSuffix(a.Version.Major, "+") + "." + strings.TrimSuffix(a.Version.Minor, "+")
}

// bearerToken is the security scheme kube-apiserver declares with a
// token authenticator.
const bearerToken = "BearerToken"

func unauthorized() spec.Response {
	return spec.Response{ResponseProps: spec.ResponseProps{Description: "Unauthorized"}}
}

// BuildV2 builds the /openapi/v2 document, as kube-apiserver's
// InstallV2: every web service's routes, defaults pruned from the
// definitions.
func (a *API) BuildV2() (*spec.Swagger, error) {
	n := newNamer(schemes()...)
	cfg := &common.Config{
		ProtocolList:                   []string{"https"},
		IgnorePrefixes:                 []string{},
		Info:                           &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: a.infoVersion()}},
		DefaultResponse:                &spec.Response{ResponseProps: spec.ResponseProps{Description: "Default Response."}},
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		GetDefinitionName:              n.definitionName,
		GetDefinitions:                 withModels(generated.GetOpenAPIDefinitions, a.ModelsV2),
		SecurityDefinitions: &spec.SecurityDefinitions{bearerToken: &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication"}}},
		DefaultSecurity: []map[string][]string{{bearerToken: {}}},
		CommonResponses: map[int]spec.Response{401: unauthorized()},
	}
	s, err := builder.BuildOpenAPISpecFromRoutes(a.webServices(), cfg)
	if err != nil {
		return nil, err
	}
	s.Definitions = handler.PruneDefaults(s.Definitions)
	return s, nil
}

// v3Config is the configuration of every group-version's v3 document;
// the definitions are made once for all of them.
func (a *API) v3Config() *common.OpenAPIV3Config {
	n := newNamer(schemes()...)
	cfg := &common.OpenAPIV3Config{
		IgnorePrefixes:                 []string{},
		Info:                           &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: a.infoVersion()}},
		DefaultResponse:                &spec3.Response{ResponseProps: spec3.ResponseProps{Description: "Default Response."}},
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		GetDefinitionName:              n.definitionName,
		GetDefinitions:                 withModels(generated.GetOpenAPIDefinitions, a.ModelsV3),
		SecuritySchemes: spec3.SecuritySchemes{bearerToken: &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
			Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication"}}},
		DefaultSecurity: []map[string][]string{{bearerToken: {}}},
		CommonResponses: map[int]*spec3.Response{401: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}}},
	}
	cfg.Definitions = withModels(generated.GetOpenAPIDefinitions, a.ModelsV3)(func(name string) spec.Ref {
		defName, _ := n.definitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(defName))
	})
	return cfg
}

// buildV3 builds the v3 document of one web service, as kube-apiserver's
// InstallV3, which keeps in the kinds of the meta types registered in
// every group only those of the document's group-version and core/v1.
func buildV3(ws common.RouteContainer, cfg *common.OpenAPIV3Config) (*spec3.OpenAPI, error) {
	s, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{ws}, cfg)
	if err != nil {
		return nil, err
	}
	if group, version, ok := groupVersionFromPath(strings.TrimPrefix(ws.RootPath(), "/")); ok {
		filterScopedGVKs(s, group, version)
	}
	return s, nil
}

// withModels adds models to the generated definitions.
func withModels(defs common.GetOpenAPIDefinitions, models map[string]*spec.Schema) common.GetOpenAPIDefinitions {
	if len(models) == 0 {
		return defs
	}
	// Each call gets schemas of its own, as the generated ones are: the
	// builders change the definitions they are given, and documents are
	// serialized while others are built.
	encoded := make(map[string][]byte, len(models))
	for name, m := range models {
		if b, err := json.Marshal(m); err == nil {
			encoded[name] = b
		}
	}
	return func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		out := defs(ref)
		for name, b := range encoded {
			var m spec.Schema
			if err := json.Unmarshal(b, &m); err == nil {
				out[name] = common.OpenAPIDefinition{Schema: m, Dependencies: refsOf(b)}
			}
		}
		return out
	}
}

// Model is the sample object of a resource whose type is no Go type (a
// custom resource): the builders name its definition by Name.
type Model struct{ Name string }

// OpenAPIModelName is the name of the definition.
func (m Model) OpenAPIModelName() string { return m.Name }

var refPattern = regexp.MustCompile(`"\$ref":"#/(?:definitions|components/schemas)/([^"]+)"`)

// refsOf are the names of the definitions a schema (in JSON) refers to, which the
// builders add to a document with it (ObjectMeta for a custom resource).
func refsOf(b []byte) []string {
	var out []string
	for _, match := range refPattern.FindAllSubmatch(b, -1) {
		name := strings.ReplaceAll(strings.ReplaceAll(string(match[1]), "~1", "/"), "~0", "~")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}
