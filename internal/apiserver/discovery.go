package apiserver

import (
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/munnerz/goautoneg"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// discovery holds the discovery documents, computed once from the
// resource table: legacy (/api, /apis, /apis/G, /apis/G/V) and aggregated
// (apidiscovery.k8s.io/v2, which client-go asks for first).
type discovery struct {
	revision     uint64 // the registry's, when it was made
	coreVersions []string
	groups       []metav1.APIGroup                               // /apis, in table order
	resources    map[schema.GroupVersion]*metav1.APIResourceList // /api/v1, /apis/G/V
	aggCore      *apidiscoveryv2.APIGroupDiscoveryList
	aggGroups    *apidiscoveryv2.APIGroupDiscoveryList
}

func newDiscovery(reg *registry.Registry) *discovery {
	d := &discovery{revision: reg.Revision(), resources: map[schema.GroupVersion]*metav1.APIResourceList{}}
	agg := map[string]*apidiscoveryv2.APIGroupDiscovery{}
	var groupOrder []string
	for _, st := range reg.Stores() {
		r := st.Resource()
		gv := r.GroupVersion()
		list := d.resources[gv]
		if list == nil {
			list = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
			if gv.Group == "" {
				// Upstream's /api/v1 names no apiVersion (its legacy
				// group's resource list is written without one).
				list.APIVersion = ""
			}
			d.resources[gv] = list
			if gv.Group == "" {
				d.coreVersions = append(d.coreVersions, gv.Version)
			} else {
				d.groups = appendGroupVersion(d.groups, gv)
			}
		}
		list.APIResources = append(list.APIResources, legacyResources(r)...)

		g := agg[gv.Group]
		if g == nil {
			g = &apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: gv.Group}}
			agg[gv.Group] = g
			groupOrder = append(groupOrder, gv.Group)
		}
		var v *apidiscoveryv2.APIVersionDiscovery
		for i := range g.Versions {
			if g.Versions[i].Version == gv.Version {
				v = &g.Versions[i]
			}
		}
		if v == nil {
			g.Versions = append(g.Versions, apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent})
			v = &g.Versions[len(g.Versions)-1]
		}
		v.Resources = append(v.Resources, aggregatedResource(r))
	}
	if list, g := d.resources[schema.GroupVersion{Version: "v1"}], agg[""]; list != nil && g != nil {
		for _, vr := range virtualResources() {
			list.APIResources = append(list.APIResources, vr)
			for i := range g.Versions {
				if g.Versions[i].Version == "v1" {
					g.Versions[i].Resources = append(g.Versions[i].Resources, aggregatedVirtual(vr))
				}
			}
		}
	}
	addReviews(d, agg, &groupOrder) // groups with no storage (reviews.go)
	for gv, list := range d.resources {
		if registry.IsBuiltinGroup(gv.Group) || gv.Group == "" {
			sort.Slice(list.APIResources, func(i, j int) bool { return list.APIResources[i].Name < list.APIResources[j].Name })
			continue
		}
		// The subresources of a custom resource stay in upstream's order.
		base := func(name string) string { b, _, _ := strings.Cut(name, "/"); return b }
		sort.SliceStable(list.APIResources, func(i, j int) bool {
			return base(list.APIResources[i].Name) < base(list.APIResources[j].Name)
		})
	}
	listOf := func(groups ...string) *apidiscoveryv2.APIGroupDiscoveryList {
		l := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
		for _, g := range groups {
			if a := agg[g]; a != nil {
				l.Items = append(l.Items, *a)
			}
		}
		return l
	}
	d.aggCore = listOf("")
	var named []string
	for _, g := range groupOrder {
		if g != "" {
			named = append(named, g)
		}
	}
	d.aggGroups = listOf(named...)
	sortLegacyGroups(d.groups)
	sortAggregated(d.aggCore.Items)
	sortAggregated(d.aggGroups.Items)
	return d
}

func appendGroupVersion(groups []metav1.APIGroup, gv schema.GroupVersion) []metav1.APIGroup {
	gvd := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
	for i := range groups {
		if groups[i].Name == gv.Group {
			groups[i].Versions = append(groups[i].Versions, gvd)
			return groups
		}
	}
	return append(groups, metav1.APIGroup{Name: gv.Group, Versions: []metav1.GroupVersionForDiscovery{gvd}, PreferredVersion: gvd})
}

// legacyResources lists a resource and its subresources as /api/v1 does.
func legacyResources(r *registry.Resource) []metav1.APIResource {
	sv := r.Storage()
	out := []metav1.APIResource{{
		Name: r.Resource, SingularName: r.SingularName(), Namespaced: r.Namespaced, Kind: r.Kind,
		Verbs: r.DiscoveryVerbs(), ShortNames: r.ShortNames, Categories: r.Categories,
		StorageVersionHash: storageVersionHash(sv.Group, sv.Version, r.Kind),
	}}
	if r.Status {
		out = append(out, metav1.APIResource{Name: r.Resource + "/status", Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: metav1.Verbs{"get", "patch", "update"}})
	}
	if r.Scale != nil {
		out = append(out, metav1.APIResource{Name: r.Resource + "/scale", Namespaced: r.Namespaced,
			Group: autoscalingv1.GroupName, Version: "v1", Kind: "Scale", Verbs: metav1.Verbs{"get", "patch", "update"}})
	}
	if r.GroupResource() == (schema.GroupResource{Resource: "namespaces"}) {
		out = append(out, metav1.APIResource{Name: "namespaces/finalize", Kind: "Namespace", Verbs: metav1.Verbs{"update"}})
	}
	for i := range r.Subresources {
		rule := &r.Subresources[i]
		gvk := ruleKind(r, rule)
		sub := metav1.APIResource{Name: r.Resource + "/" + rule.Name, Namespaced: r.Namespaced, Kind: gvk.Kind, Verbs: rule.Verbs}
		if gvk.GroupVersion() != r.GroupVersion() {
			sub.Group, sub.Version = gvk.Group, gvk.Version
		}
		out = append(out, sub)
	}
	if !r.Custom { // upstream lists a custom resource's status, then its scale
		slices.SortStableFunc(out[1:], func(a, b metav1.APIResource) int { return strings.Compare(a.Name, b.Name) })
	}
	return out
}

func aggregatedResource(r *registry.Resource) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if r.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	// Upstream names the resource's own kind without group and version.
	kind := &metav1.GroupVersionKind{Kind: r.Kind}
	if r.Custom { // upstream names a custom resource's kind in full
		kind = &metav1.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
	}
	out := apidiscoveryv2.APIResourceDiscovery{
		Resource: r.Resource, ResponseKind: kind,
		Scope: scope, SingularResource: r.SingularName(), Verbs: r.DiscoveryVerbs(), ShortNames: r.ShortNames, Categories: r.Categories,
	}
	if r.Status {
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: "status",
			ResponseKind: out.ResponseKind, Verbs: []string{"get", "patch", "update"}})
	}
	if r.GroupResource() == (schema.GroupResource{Resource: "namespaces"}) {
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: "finalize",
			ResponseKind: out.ResponseKind, Verbs: []string{"update"}})
	}
	if r.Scale != nil {
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: "scale",
			ResponseKind: &metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
			Verbs:        []string{"get", "patch", "update"}})
	}
	for i := range r.Subresources {
		rule := &r.Subresources[i]
		gvk := ruleKind(r, rule)
		kind := &metav1.GroupVersionKind{Kind: gvk.Kind}
		if gvk.GroupVersion() != r.GroupVersion() {
			kind = &metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}
		}
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: rule.Name,
			ResponseKind: kind, Verbs: rule.Verbs})
	}
	if !r.Custom {
		slices.SortStableFunc(out.Subresources, func(a, b apidiscoveryv2.APISubresourceDiscovery) int {
			return strings.Compare(a.Subresource, b.Subresource)
		})
	}
	return out
}

// aggregatedMediaType returns the media type of an aggregated discovery
// request ("" when the client asks for the legacy documents).
func aggregatedMediaType(r *http.Request) string {
	for _, c := range goautoneg.ParseAccept(r.Header.Get("Accept")) {
		if c.Params["as"] == "APIGroupDiscoveryList" && c.Params["g"] == "apidiscovery.k8s.io" && c.Params["v"] == "v2" {
			mt := c.Type + "/" + c.SubType
			if mt == mediaJSON || mt == mediaProtobuf {
				return mt
			}
		}
	}
	return ""
}

// serveAPI serves /api, /api/v1 and everything under it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	parts := splitPath(r.URL.Path)
	switch len(parts) {
	case 1:
		if err := selectRoute(r, discoveryRoute); err != nil {
			writeError(w, r, err)
			return
		}
		if mt := aggregatedMediaType(r); mt != "" {
			s.writeAggregated(w, mt, s.discovery().aggCore)
			return
		}
		s.writeDiscovery(w, r, &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
			Versions: s.discovery().coreVersions, ServerAddressByClientCIDRs: serverAddresses(r)})
	case 2:
		s.writeResourceList(w, r, schema.GroupVersion{Version: parts[1]})
	default:
		s.serveResource(w, r)
	}
}

// serveAPIs serves /apis, /apis/G, /apis/G/V and everything under them.
func (s *Server) serveAPIs(w http.ResponseWriter, r *http.Request) {
	parts := splitPath(r.URL.Path)
	switch len(parts) {
	case 1:
		if mt := aggregatedMediaType(r); mt != "" {
			s.writeAggregated(w, mt, s.discovery().aggGroups)
			return
		}
		s.writeDiscovery(w, r, &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups: s.discovery().groups})
	case 2:
		if g, ok := s.discovery().group(parts[1]); ok {
			g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
			s.writeDiscovery(w, r, &g)
			return
		}
		pageNotFound(w, r)
	default:
		if _, ok := s.discovery().group(parts[1]); !ok {
			// No web service of upstream's has the path: its last handler's
			// plain-text 404.
			pageNotFound(w, r)
			return
		}
		if len(parts) == 3 {
			s.writeResourceList(w, r, schema.GroupVersion{Group: parts[1], Version: parts[2]})
			return
		}
		s.serveResource(w, r)
	}
}

// group returns the discovery document of a named group.
func (d *discovery) group(name string) (metav1.APIGroup, bool) {
	for _, g := range d.groups {
		if g.Name == name {
			return g, true
		}
	}
	return metav1.APIGroup{}, false
}

// discoveryRoute is the route of /api and of each /api/v1 and /apis/G/V:
// GET, consuming and producing upstream's media types. /apis and /apis/G
// are served by kube-aggregator's handlers, which take any method.
var discoveryRoute = []route{{method: http.MethodGet, consumes: producesObject, produces: producesObject}}

func (s *Server) writeResourceList(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion) {
	list, ok := s.discovery().resources[gv]
	if !ok {
		writeError(w, r, notFound(r))
		return
	}
	if err := selectRoute(r, discoveryRoute); err != nil {
		writeError(w, r, err)
		return
	}
	if gv.Group == "" {
		// Upstream writes /api/v1's list as it is, at no group-version:
		// kind without apiVersion.
		out, err := negotiate(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", out.contentType())
		w.WriteHeader(http.StatusOK)
		_ = out.info.Serializer.Encode(list, w)
		return
	}
	s.writeDiscovery(w, r, list)
}

func (s *Server) writeDiscovery(w http.ResponseWriter, r *http.Request, obj runtime.Object) {
	out, err := negotiate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, out, http.StatusOK, schema.GroupVersion{Version: "v1"}, obj)
}

func (s *Server) writeAggregated(w http.ResponseWriter, mediaType string, list *apidiscoveryv2.APIGroupDiscoveryList) {
	out := output{info: serializerFor(mediaType)}
	enc := codecs().EncoderForVersion(out.info.Serializer, apidiscoveryv2.SchemeGroupVersion)
	w.Header().Set("Content-Type", mediaType+";g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_ = enc.Encode(list, w)
}

// serverAddresses is the address clients reach the server at, as /api
// lists it.
func serverAddresses(r *http.Request) []metav1.ServerAddressByClientCIDR {
	host := r.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "443")
	}
	return []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: host}}
}

// discovery returns the discovery of the registry's table, made again
// when rows came or went (custom resources) since it was made.
func (s *Server) discovery() *discovery {
	d := s.disco.Load()
	if d.revision == s.cfg.Registry.Revision() {
		return d
	}
	d = newDiscovery(s.cfg.Registry)
	s.disco.Store(d)
	return d
}
