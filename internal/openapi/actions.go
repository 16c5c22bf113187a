package openapi

import (
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// actionRoutes are the routes of one action, as upstream's installer
// declares them verb by verb: description, operation, media types,
// responses, body and query parameters.
func actionRoutes(r *Resource, a action, n naming) []*route {
	produced := r.Object
	if r.Produced != nil {
		produced = r.Produced
	}
	kind := n.kind
	switch a.verb {
	case verbGet:
		rt := &route{method: http.MethodGet, doc: n.doc("read the specified "+kind, "read "+n.sub+" of the specified "+kind),
			operation: n.op("read"), produces: append(append([]string(nil), r.Produces...), mediaTypes...), writes: produced}
		rt.returns(http.StatusOK, "OK", produced).param(prettyParam())
		if r.Options != nil {
			rt.param(objectParams(r.Options)...)
		}
		return []*route{rt}
	case verbList:
		doc := n.doc("list objects of kind "+kind, "list "+n.sub+" of objects of kind "+kind)
		if r.has("watch") {
			doc = n.doc("list or watch objects of kind "+kind, "list or watch "+n.sub+" of objects of kind "+kind)
		}
		rt := &route{method: http.MethodGet, doc: doc, operation: n.op("list"), produces: allMediaTypes, writes: r.List}
		return []*route{rt.returns(http.StatusOK, "OK", r.List).param(prettyParam()).param(objectParams(metav1.ListOptions{})...)}
	case verbPut:
		rt := &route{method: http.MethodPut, doc: n.doc("replace the specified "+kind, "replace "+n.sub+" of the specified "+kind),
			operation: n.op("replace"), produces: mediaTypes, writes: produced}
		rt.returns(http.StatusOK, "OK", produced).returns(http.StatusCreated, "Created", produced)
		return []*route{rt.param(prettyParam()).body(r.Object, true).param(objectParams(metav1.UpdateOptions{})...)}
	case verbPatch:
		rt := &route{method: http.MethodPatch, doc: n.doc("partially update the specified "+kind, "partially update "+n.sub+" of the specified "+kind),
			operation: n.op("patch"), consumes: patchTypes, produces: mediaTypes, writes: produced}
		rt.returns(http.StatusOK, "OK", produced).returns(http.StatusCreated, "Created", produced)
		return []*route{rt.param(prettyParam()).body(metav1.Patch{}, true).param(objectParams(metav1.PatchOptions{})...)}
	case verbPost:
		art := article(kind)
		rt := &route{method: http.MethodPost, doc: n.doc("create"+art+kind, "create "+n.sub+" of"+art+kind),
			operation: n.op("create"), produces: mediaTypes, writes: produced}
		rt.returns(http.StatusOK, "OK", produced).returns(http.StatusCreated, "Created", produced).returns(http.StatusAccepted, "Accepted", produced)
		return []*route{rt.param(prettyParam()).body(r.Object, true).param(objectParams(metav1.CreateOptions{})...)}
	case verbDelete:
		art := article(kind)
		answer := any(metav1.Status{})
		if r.DeleteReturnsObject {
			answer = produced
		}
		rt := &route{method: http.MethodDelete, doc: n.doc("delete"+art+kind, "delete "+n.sub+" of"+art+kind),
			operation: n.op("delete"), produces: mediaTypes, writes: answer}
		rt.returns(http.StatusOK, "OK", answer).returns(http.StatusAccepted, "Accepted", answer)
		return []*route{rt.param(prettyParam()).body(metav1.DeleteOptions{}, false).param(objectParams(metav1.DeleteOptions{})...)}
	case verbDeleteCollection:
		rt := &route{method: http.MethodDelete, doc: n.doc("delete collection of "+kind, "delete collection of "+n.sub+" of a "+kind),
			operation: n.op("deletecollection"), produces: mediaTypes, writes: metav1.Status{}}
		rt.returns(http.StatusOK, "OK", metav1.Status{}).param(prettyParam()).body(metav1.DeleteOptions{}, false)
		rt.param(objectParams(metav1.DeleteOptions{})...).param(objectParams(metav1.ListOptions{}, "watch", "allowWatchBookmarks")...)
		return []*route{rt}
	case verbWatch, verbWatchList:
		return []*route{watchRoute(a.verb, n)}
	case verbConnect:
		return connectRoutes(r, n)
	}
	return nil
}

// watchRoute is a watch at a /watch/ path, deprecated since 1.11.
func watchRoute(verb string, n naming) *route {
	kind := n.kind
	doc := n.doc("watch changes to an object of kind "+kind, "watch changes to "+n.sub+" of an object of kind "+kind) +
		". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
	op := n.op("watch")
	if verb == verbWatchList {
		doc = n.doc("watch individual changes to a list of "+kind, "watch individual changes to a list of "+n.sub+" of "+kind) +
			". deprecated: use the 'watch' parameter with a list operation instead."
		op = "watch" + n.namespaced + kind + title(n.sub) + "List" + n.suffix
	}
	rt := &route{method: http.MethodGet, doc: doc, operation: op, produces: allMediaTypes, writes: metav1.WatchEvent{}}
	return rt.returns(http.StatusOK, "OK", metav1.WatchEvent{}).param(prettyParam()).param(objectParams(metav1.ListOptions{})...)
}

// connectRoutes are a connecter's routes, one per HTTP method; they
// answer a string.
func connectRoutes(r *Resource, n naming) []*route {
	var out []*route
	for _, method := range r.ConnectMethods {
		doc := n.doc("connect "+method+" requests to "+n.kind, "connect "+method+" requests to "+n.sub+" of "+n.kind)
		rt := &route{method: method, doc: doc, operation: "connect" + title(strings.ToLower(method)) + n.namespaced + n.kind + title(n.sub) + n.suffix,
			produces: []string{"*/*"}, consumes: []string{"*/*"}, writes: "string"}
		if r.Options != nil {
			rt.param(objectParams(r.Options)...)
		}
		out = append(out, rt)
	}
	return out
}
