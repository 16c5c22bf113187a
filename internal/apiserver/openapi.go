package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The OpenAPI documents are minimal: for each group-version, one PATCH
// operation per kind that declares the fieldValidation parameter and the
// x-kubernetes-group-version-kind extension. That is what kubectl reads to
// learn that the server validates fields itself (so it skips client-side
// schema validation) and it makes kubectl's apply fall back to the
// compiled-in types for its strategic merge patches. Schemas (for kubectl
// explain) are not served yet.

// serveOpenAPIV2 answers /openapi/v2. regis has no v2 schema: 404, which
// kubectl tolerates.
func (s *Server) serveOpenAPIV2(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, notFound(r))
}

// serveOpenAPIV3 answers /openapi/v3 (the index) and
// /openapi/v3/api/v1, /openapi/v3/apis/G/V (one document each).
func (s *Server) serveOpenAPIV3(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/openapi/v3"), "/")
	docs := s.openAPIDocs()
	if rest == "" {
		index := map[string]map[string]string{}
		for p, doc := range docs {
			sum := sha256.Sum256(doc)
			index[p] = map[string]string{"serverRelativeURL": "/openapi/v3/" + p + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:]))}
		}
		writeJSON(w, map[string]any{"paths": index})
		return
	}
	doc, ok := docs[rest]
	if !ok {
		writeError(w, r, notFound(r))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	data, _ := json.Marshal(v)
	_, _ = w.Write(data)
}

// openAPIDocs returns the OpenAPI v3 document of each group-version, keyed
// by its path ("api/v1", "apis/apps/v1").
func (s *Server) openAPIDocs() map[string][]byte {
	type op = map[string]any
	paths := map[schema.GroupVersion]map[string]any{}
	for _, st := range s.cfg.Registry.Stores() {
		res := st.Resource()
		gv := res.GroupVersion()
		if paths[gv] == nil {
			paths[gv] = map[string]any{}
		}
		base := "/api/" + gv.Version
		if gv.Group != "" {
			base = "/apis/" + gv.Group + "/" + gv.Version
		}
		if res.Namespaced {
			base += "/namespaces/{namespace}"
		}
		gvk := map[string]string{"group": gv.Group, "version": gv.Version, "kind": res.Kind}
		params := []any{
			op{"name": "dryRun", "in": "query", "schema": op{"type": "string"}},
			op{"name": "fieldManager", "in": "query", "schema": op{"type": "string"}},
			op{"name": "fieldValidation", "in": "query", "schema": op{"type": "string"}},
		}
		ok := op{"200": op{"description": "OK"}}
		paths[gv][base+"/"+res.Resource+"/{name}"] = op{
			"get":   op{"x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk, "responses": ok},
			"put":   op{"x-kubernetes-action": "put", "x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": ok},
			"patch": op{"x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": ok},
		}
		paths[gv][base+"/"+res.Resource] = op{
			"post": op{"x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": ok},
		}
	}
	out := map[string][]byte{}
	for gv, p := range paths {
		key := "api/" + gv.Version
		if gv.Group != "" {
			key = "apis/" + gv.Group + "/" + gv.Version
		}
		data, _ := json.Marshal(map[string]any{
			"openapi": "3.0.0",
			"info":    map[string]string{"title": "Kubernetes", "version": "v1.37.2"},
			"paths":   p,
		})
		out[key] = data
	}
	return out
}
