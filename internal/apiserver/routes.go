package apiserver

import (
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// kube-apiserver serves every path of an API group-version, /api, /apis,
// each /apis/G and /version through go-restful, whose router answers
// before any handler runs: 404 when no route has the path's shape, 405
// when none of those takes the method (HEAD and OPTIONS included), 415
// when none of those consumes the Content-Type, 406 when none of those
// produces what Accept asks for. Its texts ("405: Method Not Allowed")
// become the messages of upstream's generic Status for each code. The
// routes here are those upstream's installer registers for a resource.

// The media types upstream's routes produce. Upstream lists CBOR only with
// its CBORServingAndStorage gate, off by default, so the messages name
// these; regis speaks CBOR too, and its routes take it (hiddenProduces).
var (
	producesObject = []string{mediaJSON, mediaYAML, mediaProtobuf}
	producesStream = []string{mediaJSON, mediaYAML, mediaProtobuf, mediaJSON + ";stream=watch", mediaProtobuf + ";stream=watch"}
	hiddenProduces = []string{mediaCBOR, "application/cbor-seq"}
	// consumesPatch are the patch types of a built-in resource's PATCH
	// route (apply-patch+cbor hidden, as CBOR above).
	consumesPatch = []string{"application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	hiddenConsumes = []string{"application/apply-patch+cbor"}
)

// route is one go-restful route of a path: its method, what it consumes
// (nil: anything) and what it produces.
type route struct {
	method   string
	consumes []string
	produces []string
}

// routesFor returns the routes upstream registers for the path of info
// on resource res, none when the path has no route there. The routes of
// the main resource are appended to out (the caller's buffer).
func routesFor(res *registry.Resource, info requestInfo, out []route) []route {
	serves := func(verb, method string, produces []string, consumes []string) {
		if res.Serves(verb) {
			out = append(out, route{method: method, produces: produces, consumes: consumes})
		}
	}
	allNamespaces := res.Namespaced && info.namespace == ""
	switch {
	case info.watchPath:
		if info.subresource != "" || (info.name != "" && allNamespaces) {
			return nil
		}
		serves("watch", http.MethodGet, producesStream, nil)
		return out
	case info.name == "":
		serves("list", http.MethodGet, producesStream, nil)
		if allNamespaces {
			return out
		}
		serves("create", http.MethodPost, producesObject, nil)
		serves("deletecollection", http.MethodDelete, producesObject, nil)
		return out
	case info.subresource == "":
		serves("get", http.MethodGet, producesObject, nil)
		serves("update", http.MethodPut, producesObject, nil)
		serves("patch", http.MethodPatch, producesObject, consumesPatch)
		serves("delete", http.MethodDelete, producesObject, nil)
		return out
	case info.subresource == "status" && res.Status, info.subresource == "scale" && res.Scale != nil:
		return []route{{http.MethodGet, nil, producesObject}, {http.MethodPut, nil, producesObject},
			{http.MethodPatch, consumesPatch, producesObject}}
	case info.subresource == "finalize" && res.GroupResource() == (schema.GroupResource{Resource: "namespaces"}):
		return []route{{http.MethodPut, nil, producesObject}}
	}
	if rule := res.SubresourceRule(info.subresource); rule != nil {
		return ruleRoutes(rule)
	}
	return nil
}

// ruleRoutes are the routes of a subresource rule.
func ruleRoutes(rule *registry.SubresourceRule) []route {
	switch {
	case rule.IsView():
		return []route{{http.MethodGet, nil, producesObject}, {http.MethodPut, nil, producesObject},
			{http.MethodPatch, consumesPatch, producesObject}}
	case rule.IsAction():
		return []route{{http.MethodPost, nil, producesObject}}
	case rule.IsConnect():
		return connectMethods(rule)
	}
	return nil
}

// selectRoute is go-restful's choice among the routes of a path (its
// RouterJSR311.detectRoute): the error it answers when none fits. It runs
// on every request and allocates only to report a 406.
func selectRoute(r *http.Request, routes []route) error {
	if len(routes) == 0 {
		return routeError(http.StatusNotFound, "404: Page Not Found")
	}
	methodOK, typeOK := false, false
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	for _, rt := range routes {
		if rt.method != r.Method {
			continue
		}
		methodOK = true
		if !consumes(rt, r) {
			continue
		}
		typeOK = true
		if matchesMediaType(accept, true, rt.produces, hiddenProduces) {
			return nil
		}
	}
	switch {
	case !methodOK:
		return routeError(http.StatusMethodNotAllowed, "405: Method Not Allowed")
	case !typeOK:
		return routeError(http.StatusUnsupportedMediaType, "415: Unsupported Media Type")
	}
	var available []string
	for _, rt := range routes {
		if rt.method == r.Method && consumes(rt, r) {
			available = append(available, rt.produces...)
		}
	}
	return routeError(http.StatusNotAcceptable, "406: Not Acceptable\n\nAvailable representations: "+strings.Join(available, ", "))
}

// consumes is go-restful's Route.matchesContentType: a request without
// Content-Type passes for GET, HEAD, OPTIONS, DELETE and TRACE, and is
// application/octet-stream otherwise.
func consumes(rt route, r *http.Request) bool {
	if rt.consumes == nil {
		return true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete, http.MethodTrace:
			return true
		}
		ct = "application/octet-stream"
	}
	return matchesMediaType(ct, false, rt.consumes, hiddenConsumes)
}

// matchesMediaType tells whether one of the comma-separated media types
// of header (parameters dropped) is in one of lists, as go-restful
// compares them: exactly, with no wildcard but "*/*" (in the header when
// anyInHeader).
func matchesMediaType(header string, anyInHeader bool, lists ...[]string) bool {
	for rest := header; ; {
		mt, more, found := strings.Cut(rest, ",")
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
		mt = strings.TrimSpace(mt)
		if mt == "*/*" && anyInHeader {
			return true
		}
		for _, types := range lists {
			if slices.Contains(types, mt) || slices.Contains(types, "*/*") {
				return true
			}
		}
		if !found {
			return false
		}
		rest = more
	}
}

// routeError is the Status upstream answers a go-restful routing error
// with (its serviceErrorHandler: NewGenericServerResponse of the code and
// go-restful's text).
func routeError(code int, text string) error {
	return apierrors.NewGenericServerResponse(code, "", schema.GroupResource{}, "", text, 0, false)
}

// pageNotFound is the answer to a path outside every go-restful web
// service and every other handler: net/http's plain-text 404.
func pageNotFound(w http.ResponseWriter, r *http.Request) {
	http.NotFound(w, r)
}
