package openapi

import (
	"net/http"
	"sort"
	"strings"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kube-openapi/pkg/common"
)

// This file follows upstream's APIInstaller.registerResourceHandlers
// (k8s.io/apiserver/pkg/endpoints/installer.go): the actions of a storage
// by scope, then one route per action.

// The media types of kube-apiserver's serializers: JSON, YAML and
// protobuf, and the watch streams of JSON and protobuf.
var (
	mediaTypes    = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	allMediaTypes = append(slices2(mediaTypes), "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
	patchTypes    = []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
)

func slices2(s []string) []string { return append([]string(nil), s...) }

// The actions' verbs (upstream's request.Method*).
const (
	verbGet, verbList, verbPut, verbPatch, verbPost = "GET", "LIST", "PUT", "PATCH", "POST"
	verbDelete, verbDeleteCollection                = "DELETE", "DELETECOLLECTION"
	verbWatch, verbWatchList, verbConnect           = "WATCH", "WATCHLIST", "CONNECT"
)

// action is one verb at one path.
type action struct {
	verb, path    string
	params        []*param
	allNamespaces bool
}

// webServiceFor is the web service of a group-version: every storage's
// routes, in the order of their paths, and the group-version's discovery
// document.
func webServiceFor(gv GroupVersion) *webService {
	ws := &webService{root: gv.Prefix()}
	resources := append([]Resource(nil), gv.Resources...)
	sort.Slice(resources, func(i, j int) bool { return resources[i].Path < resources[j].Path })
	for i := range resources {
		ws.routes = append(ws.routes, resourceRoutes(ws.root, &resources[i])...)
	}
	ws.routes = append(ws.routes, discoveryRoute(ws.root+"/", "get available resources", "getAPIResources", metav1.APIResourceList{}))
	return ws
}

// actions are the actions of a storage, by scope.
func actions(r *Resource) []action {
	resource, sub := r.split()
	isGetter := r.has("get")
	allowWatchList := r.has("watch") && r.has("list")
	nameParam := pathParam("name", "name of the "+r.Kind.Kind)
	subpathParam := pathParam("path", "path to the resource")

	var params []*param
	resourcePath, itemPath := resource, resource+"/{name}"
	if r.Namespaced {
		params = []*param{pathParam("namespace", "object name and auth scope, such as for teams and projects")}
		resourcePath = "namespaces/{namespace}/" + resource
		itemPath = resourcePath + "/{name}"
	}
	resourceParams := params
	nameParams := append(append([]*param(nil), params...), nameParam)
	proxyParams := append(append([]*param(nil), nameParams...), subpathParam)
	if sub != "" {
		itemPath += "/" + sub
		resourcePath, resourceParams = itemPath, nameParams
	}

	var out []action
	add := func(ok bool, verb, path string, params []*param, all bool) {
		if ok {
			out = append(out, action{verb: verb, path: path, params: params, allNamespaces: all})
		}
	}
	connect := len(r.ConnectMethods) > 0
	add(r.has("list"), verbList, resourcePath, resourceParams, false)
	add(r.has("create"), verbPost, resourcePath, resourceParams, false)
	add(r.has("deletecollection"), verbDeleteCollection, resourcePath, resourceParams, false)
	add(allowWatchList, verbWatchList, "watch/"+resourcePath, resourceParams, false)
	add(isGetter, verbGet, itemPath, nameParams, false)
	add(r.has("update"), verbPut, itemPath, nameParams, false)
	add(r.has("patch"), verbPatch, itemPath, nameParams, false)
	add(r.has("delete"), verbDelete, itemPath, nameParams, false)
	add(r.has("watch"), verbWatch, "watch/"+itemPath, nameParams, false)
	add(connect, verbConnect, itemPath, nameParams, false)
	add(connect && r.Subpath, verbConnect, itemPath+"/{path:*}", proxyParams, false)
	if r.Namespaced && sub == "" {
		// Lists and watches across namespaces.
		add(r.has("list"), verbList, resource, nil, true)
		add(allowWatchList, verbWatchList, "watch/"+resource, nil, true)
	}
	return out
}

// resourceRoutes are the routes of a storage's actions.
func resourceRoutes(root string, r *Resource) []common.Route {
	_, sub := r.split()
	kind := r.Kind.Kind
	if sub != "" {
		kind = r.ParentKind
	}
	var out []common.Route
	for _, a := range actions(r) {
		namespaced, suffix := "", ""
		if r.Namespaced {
			namespaced = "Namespaced"
		}
		if strings.HasSuffix(a.path, "/{path:*}") {
			suffix += "WithPath"
		}
		if a.allNamespaces {
			suffix += "ForAllNamespaces"
			namespaced = ""
		}
		n := naming{kind: kind, sub: sub, namespaced: namespaced, suffix: suffix}
		for _, rt := range actionRoutes(r, a, n) {
			rt.path = root + "/" + a.path
			rt.params = append(rt.params, asParams(a.params)...)
			rt.metadata = map[string]any{
				"x-kubernetes-group-version-kind": metav1.GroupVersionKind{Group: r.Kind.Group, Version: r.Kind.Version, Kind: r.Kind.Kind},
				"x-kubernetes-action":             strings.ToLower(a.verb),
			}
			if rt.consumes == nil {
				rt.consumes = []string{"*/*"}
			}
			out = append(out, rt)
		}
	}
	return out
}

func asParams(ps []*param) []common.Parameter {
	out := make([]common.Parameter, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// naming makes the operation names and descriptions of a storage's
// routes.
type naming struct {
	kind, sub, namespaced, suffix string
}

// op is the operation name: verb, scope, kind, subresource and suffix
// ("readNamespacedPodStatus", "listPodForAllNamespaces").
func (n naming) op(verb string) string {
	return verb + n.namespaced + n.kind + title(n.sub) + n.suffix
}

// doc is the description: whole when the storage is a resource, sub
// when it is a subresource.
func (n naming) doc(whole, sub string) string {
	if n.sub != "" {
		return sub
	}
	return whole
}

// title is cases.Title of a lower-case word.
func title(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(strings.ToLower(s))
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// article is upstream's GetArticleForNoun with spaces around: " a ",
// " an ", or " " for plurals.
func article(noun string) string {
	if !strings.HasSuffix(noun, "ss") && strings.HasSuffix(noun, "s") {
		return " "
	}
	if strings.ContainsRune("aeiouAEIOU", rune(noun[0])) {
		return " an "
	}
	return " a "
}

// discoveryRoute is a GET of a discovery document, as upstream's
// discovery handlers declare it.
func discoveryRoute(path, doc, op string, sample any) *route {
	return &route{method: http.MethodGet, path: path, doc: doc, operation: op,
		produces: mediaTypes, consumes: mediaTypes, writes: sample}
}
