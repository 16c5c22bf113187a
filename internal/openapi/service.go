package openapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"k8s.io/kube-openapi/pkg/cached"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Service serves the documents of an API with kube-openapi's handlers.
// Nothing is built before it is asked for: the v2 document on the first
// request of /openapi/v2, a v3 document on the first request of it or of
// the v3 index (which needs the hash of every document).
type Service struct {
	v2 http.Handler
	v3 *handler3.OpenAPIService
	// paths are the v3 documents' paths ("api/v1").
	paths map[string]bool
	// build serializes the builds, which share the v3 definitions.
	build sync.Mutex
}

// NewService returns the Service of api.
func NewService(api *API) *Service {
	s := &Service{paths: map[string]bool{}}
	mux := &pathHandler{}
	v2 := cached.Once(cached.Func(func() (*spec.Swagger, string, error) {
		s.build.Lock()
		defer s.build.Unlock()
		doc, err := api.BuildV2()
		return doc, "v2", err
	}))
	handler.NewOpenAPIServiceLazy(v2).RegisterOpenAPIVersionedService("/openapi/v2", mux)
	s.v2 = mux.handler

	s.v3 = handler3.NewOpenAPIService()
	for _, ws := range api.webServices() {
		doc := cached.Once(cached.Func(func() (*spec3.OpenAPI, string, error) {
			s.build.Lock()
			defer s.build.Unlock()
			// Definitions of its own for each document, as upstream's
			// builds: the builder changes them, and a built document is
			// serialized while the next one is built.
			doc, err := buildV3(ws, api.v3Config())
			return doc, "v3", err
		}))
		path := strings.TrimPrefix(ws.RootPath(), "/")
		s.paths[path] = true
		s.v3.UpdateGroupVersionLazy(path, doc)
	}
	return s
}

// ServeV2 answers /openapi/v2: JSON or protobuf by the Accept header,
// gzipped when the client accepts it, with an ETag.
func (s *Service) ServeV2(w http.ResponseWriter, r *http.Request) { s.v2.ServeHTTP(w, r) }

// ServeV3 answers /openapi/v3, the index of the documents with their
// hashes, and /openapi/v3/PATH, the document of one web service
// ("api/v1", "apis/apps"), JSON or protobuf, immutable when asked for
// with its current ?hash= and redirected to it when asked with another.
// An unknown path is answered 404 with no body, as kube-aggregator's.
func (s *Service) ServeV3(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/openapi/v3" {
		s.serveIndex(w, r)
		return
	}
	if !s.paths[strings.TrimPrefix(r.URL.Path, "/openapi/v3/")] {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	s.v3.HandleGroupVersion(w, r)
}

// serveIndex serves the index as kube-aggregator does, which merges the
// indexes of its delegates: with no ETag.
func (s *Service) serveIndex(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.v3.HandleDiscovery(rec, httptest.NewRequest(http.MethodGet, "/openapi/v3", nil))
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		return
	}
	http.ServeContent(w, r, "/openapi/v3", time.Now(), bytes.NewReader(rec.Body.Bytes()))
}

// pathHandler receives the handler kube-openapi registers.
type pathHandler struct{ handler http.Handler }

func (p *pathHandler) Handle(_ string, h http.Handler) { p.handler = h }

var _ common.PathHandler = (*pathHandler)(nil)
