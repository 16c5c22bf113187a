package apiserver

import (
	"net/http"
	"slices"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/regis-dev/regis/internal/crdschema"
	"github.com/regis-dev/regis/internal/openapi"
	"github.com/regis-dev/regis/internal/registry"
)

// The OpenAPI documents, /openapi/v2 and /openapi/v3, are kube-apiserver's,
// made by internal/openapi from a description of every storage regis
// serves: each row, its status, scale and further subresources, and the
// bindings and componentstatuses of core/v1. They are built on the first
// request of each. kubectl reads them for explain, for its client-side
// field validation (which it skips when the PATCH operations declare the
// fieldValidation parameter, as they do) and for apply's strategic merge
// patches.

// handleOpenAPI routes /openapi/v2 and /openapi/v3 to the documents,
// which are described and built on the first request.
func (s *Server) handleOpenAPI(mux *http.ServeMux) {
	svc := s.openAPIService
	mux.HandleFunc("/openapi/v2", func(w http.ResponseWriter, r *http.Request) { svc().ServeV2(w, r) })
	mux.HandleFunc("/openapi/v3", func(w http.ResponseWriter, r *http.Request) { svc().ServeV3(w, r) })
	mux.HandleFunc("/openapi/v3/", func(w http.ResponseWriter, r *http.Request) { svc().ServeV3(w, r) })
}

// openAPIService returns the documents of the registry's table, described
// again when rows came or went (custom resources) since they were.
func (s *Server) openAPIService() *openapi.Service {
	s.openAPIMu.Lock()
	defer s.openAPIMu.Unlock()
	if rev := s.cfg.Registry.Revision(); s.openAPISvc == nil || s.openAPIRev != rev {
		s.openAPISvc, s.openAPIRev = openapi.NewService(s.openAPI()), rev
	}
	return s.openAPISvc
}

// isOpenAPI reports a request for the documents, which kube-openapi's
// handlers compress themselves (v2) or not at all (v3).
func isOpenAPI(r *http.Request) bool {
	return r.URL.Path == "/openapi/v2" || r.URL.Path == "/openapi/v3" || strings.HasPrefix(r.URL.Path, "/openapi/v3/")
}

// openAPI describes the storages served, by group-version.
func (s *Server) openAPI() *openapi.API {
	var gvs []openapi.GroupVersion
	index := map[schema.GroupVersion]int{}
	for _, st := range s.cfg.Registry.Stores() {
		res := st.Resource()
		gv := res.GroupVersion()
		i, ok := index[gv]
		if !ok {
			i = len(gvs)
			index[gv] = i
			gvs = append(gvs, openapi.GroupVersion{GroupVersion: gv})
		}
		gvs[i].Resources = append(gvs[i].Resources, openAPIResources(res)...)
	}
	if i, ok := index[corev1.SchemeGroupVersion]; ok {
		gvs[i].Resources = append(gvs[i].Resources, virtualOpenAPIResources()...)
	}
	api := &openapi.API{GroupVersions: gvs, Version: s.cfg.Version}
	for _, st := range s.cfg.Registry.Stores() {
		if m := st.Resource().OpenAPIModels; m != nil {
			api.ModelsV2 = addModels(api.ModelsV2, m, true)
			api.ModelsV3 = addModels(api.ModelsV3, m, false)
		}
	}
	return api
}

// addModels adds the definitions of a custom resource to models; a CRD
// whose definitions cannot be made is left out, as upstream logs and
// skips it.
func addModels(models map[string]*spec.Schema, of func(v2 bool) (map[string]*spec.Schema, error), v2 bool) map[string]*spec.Schema {
	defs, err := of(v2)
	if err != nil {
		return models
	}
	if models == nil {
		models = map[string]*spec.Schema{}
	}
	for name, d := range defs {
		models[name] = d
	}
	return models
}

// openAPIResources describes a row and its subresources.
func openAPIResources(r *registry.Resource) []openapi.Resource {
	var object, list any = r.New(), r.NewList()
	if r.Custom {
		listKind := r.NewList().GetObjectKind().GroupVersionKind().Kind
		object = openapi.Model{Name: crdschema.OpenAPIModelName(r.Group, r.Version, r.Kind)}
		list = openapi.Model{Name: crdschema.OpenAPIModelName(r.Group, r.Version, listKind)}
	}
	main := openapi.Resource{Path: r.Resource, Kind: r.GroupVersionKind(), Namespaced: r.Namespaced,
		Object: object, List: list, Verbs: r.Verbs(), DeleteReturnsObject: r.ReturnDeletedObject}
	out := []openapi.Resource{main}
	sub := func(name string, kind schema.GroupVersionKind, obj any, verbs ...string) openapi.Resource {
		return openapi.Resource{Path: r.Resource + "/" + name, Kind: kind, ParentKind: r.Kind, Namespaced: r.Namespaced, Object: obj, Verbs: verbs}
	}
	if r.Status {
		out = append(out, sub("status", r.GroupVersionKind(), object, "get", "update", "patch"))
	}
	if r.Scale != nil {
		out = append(out, sub("scale", autoscalingv1.SchemeGroupVersion.WithKind("Scale"), &autoscalingv1.Scale{}, "get", "update", "patch"))
	}
	if r.GroupResource() == (schema.GroupResource{Resource: "namespaces"}) {
		out = append(out, sub("finalize", r.GroupVersionKind(), r.New(), "update"))
	}
	for i := range r.Subresources {
		rule := &r.Subresources[i]
		res := sub(rule.Name, ruleKind(r, rule), r.New(), rule.Verbs...)
		switch {
		case rule.New != nil:
			res.Object = rule.New()
		case rule.Connect != nil:
			connectResource(&res, rule)
		}
		out = append(out, res)
	}
	return out
}

// connectResource describes a connection subresource as upstream's
// storage of it: pods/log is a getter with options that answers text,
// the others connecters whose options are their kind (pods/exec's
// PodExecOptions), the proxies with {path} routes and every method.
func connectResource(res *openapi.Resource, rule *registry.SubresourceRule) {
	if rule.Name == "log" {
		res.Options, res.Produces, res.Produced = &corev1.PodLogOptions{}, []string{"text/plain"}, ""
		return
	}
	res.Verbs = nil
	res.Object, _ = scheme().New(res.Kind)
	res.Options = res.Object
	methods := map[string]string{"get": http.MethodGet, "create": http.MethodPost, "update": http.MethodPut,
		"patch": http.MethodPatch, "delete": http.MethodDelete}
	for _, v := range rule.Verbs {
		res.ConnectMethods = append(res.ConnectMethods, methods[v])
	}
	if rule.Name == "proxy" {
		res.Subpath = true
		res.ConnectMethods = append(res.ConnectMethods, http.MethodHead, http.MethodOptions)
	}
	slices.Sort(res.ConnectMethods)
}

// virtualOpenAPIResources describes bindings (create only) and
// componentstatuses (get and list).
func virtualOpenAPIResources() []openapi.Resource {
	gv := corev1.SchemeGroupVersion
	return []openapi.Resource{
		{Path: bindingsResource.Name, Kind: gv.WithKind("Binding"), Namespaced: true, Object: &corev1.Binding{}, Verbs: []string{"create"}},
		{Path: componentStatusesResource.Name, Kind: gv.WithKind("ComponentStatus"), Object: &corev1.ComponentStatus{},
			List: &corev1.ComponentStatusList{}, Verbs: []string{"get", "list"}},
	}
}
