package server

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The order of a start. On a data dir of many objects, filling every
// watch cache (each object read from etcd and decoded) takes seconds of
// CPU, and the controllers' first passes list everything again. Neither
// is needed to serve: kube-apiserver's readiness does not wait for its
// watch caches, and its controllers run in another process. So a start
// fills first the caches the start itself reads (early), reconciles the
// bootstrap policy and serves; then fills the other caches and starts
// the controllers that read them (until a cache is filled its reads go
// to etcd, its watches wait for it, and whole lists for its fill).

// earlyGroups and earlyResources are the caches filled at once: RBAC (the
// authorizer), namespaces (every namespaced write), admission's
// configuration (webhooks and policies, watched by the chain),
// custom resource definitions and API services (what is served), and
// flow control's configuration.
var (
	earlyGroups = map[string]bool{
		"rbac.authorization.k8s.io":    true,
		"admissionregistration.k8s.io": true,
		"apiextensions.k8s.io":         true,
		"apiregistration.k8s.io":       true,
		"flowcontrol.apiserver.k8s.io": true,
	}
	earlyResources = map[schema.GroupResource]bool{{Resource: "namespaces"}: true}
)

// earlyCache says whether the cache of gr fills as soon as caches run.
func earlyCache(gr schema.GroupResource) bool {
	return earlyGroups[gr.Group] || earlyResources[gr]
}

// startRest fills the caches left for after the start and starts the
// controllers that read them. A controller does not wait for every cache:
// its first whole list of a resource waits for that cache's fill (the
// watch cache's fillWait), its watches for the cache.
func startRest(ctx context.Context, caches *Caches, start func()) {
	if caches != nil {
		caches.StartRest()
	}
	if ctx.Err() == nil {
		start()
	}
}
