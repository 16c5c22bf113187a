package apiserver

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"sort"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// groupPriority is the order of kube-apiserver's groups in /apis and in
// aggregated discovery: kube-aggregator sorts its APIServices by group
// priority (kube-apiserver's apiVersionPriorities), highest first, its own
// apiregistration.k8s.io leading. kubectl resolves a resource that two
// groups serve by this order. Groups it does not list (custom resources)
// come after, by name.
var groupPriority = []string{
	"apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
	"autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
	"storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
	"coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "resource.k8s.io", "flowcontrol.apiserver.k8s.io",
	"internal.apiserver.k8s.io", "storagemigration.k8s.io", "lifecycle.k8s.io",
}

// groupLess orders two group names as upstream's discovery does.
func groupLess(a, b string) bool {
	ia, ib := slices.Index(groupPriority, a), slices.Index(groupPriority, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia < ib
	case ia >= 0 || ib >= 0:
		return ia >= 0
	}
	return a < b
}

// versionLess orders the versions of a group newest first (v2, v1,
// v1beta1, ...), as upstream's version priorities do; the first is the
// preferred one.
func versionLess(a, b string) bool { return version.CompareKubeAwareVersionStrings(a, b) > 0 }

// sortLegacyGroups orders /apis: groups by priority, each group's versions
// newest first, the newest preferred.
func sortLegacyGroups(groups []metav1.APIGroup) {
	sort.SliceStable(groups, func(i, j int) bool { return groupLess(groups[i].Name, groups[j].Name) })
	for i := range groups {
		g := &groups[i]
		sort.SliceStable(g.Versions, func(a, b int) bool { return versionLess(g.Versions[a].Version, g.Versions[b].Version) })
		g.PreferredVersion = g.Versions[0]
	}
}

// sortAggregated orders an aggregated discovery list as upstream's:
// groups by priority, versions newest first, resources and subresources
// by name.
func sortAggregated(items []apidiscoveryv2.APIGroupDiscovery) {
	sort.SliceStable(items, func(i, j int) bool { return groupLess(items[i].Name, items[j].Name) })
	for i := range items {
		vs := items[i].Versions
		sort.SliceStable(vs, func(a, b int) bool { return versionLess(vs[a].Version, vs[b].Version) })
		for _, v := range vs {
			sort.SliceStable(v.Resources, func(a, b int) bool { return v.Resources[a].Resource < v.Resources[b].Resource })
			for _, r := range v.Resources {
				sort.SliceStable(r.Subresources, func(a, b int) bool { return r.Subresources[a].Subresource < r.Subresources[b].Subresource })
			}
		}
	}
}

// storageVersionHash is upstream's discovery.StorageVersionHash: the
// first 8 bytes of the SHA-256 of the storage "group/version/kind", in
// base64. Clients compare it to tell when a resource's storage version
// changed.
func storageVersionHash(group, version, kind string) string {
	sum := sha256.Sum256([]byte(group + "/" + version + "/" + kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}
