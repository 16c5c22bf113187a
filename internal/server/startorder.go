package server

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The order of a start. On a data dir of many objects, filling every
// watch cache (each object read from etcd and decoded) takes seconds of
// CPU, and the controllers' first passes list everything again. Neither
// is needed to serve: kube-apiserver's readiness does not wait for its
// watch caches, and its controllers run in another process. So a start
// fills first the caches the start itself reads (early), reconciles the
// bootstrap policy and serves; then fills the other caches, and starts
// the controllers that read them once they are filled (reads meanwhile
// go to etcd, watches wait for their cache).

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

// lateControllerWait bounds how long the late controllers wait for the
// caches: past it they start anyway (their reads go to etcd).
const lateControllerWait = time.Minute

// startRest fills the caches left for after the start, waits for them
// (at most lateControllerWait) and then calls start, in the caller's
// goroutine.
func startRest(ctx context.Context, caches *Caches, log *slog.Logger, start func()) {
	if caches != nil {
		t0 := time.Now()
		caches.StartRest()
		if pending := caches.WaitReady(ctx, lateControllerWait); len(pending) > 0 {
			log.Warn("starting the controllers before every watch cache is filled", "pending", pending)
		} else {
			log.Debug("watch caches filled", "took", time.Since(t0).Round(time.Millisecond))
		}
	}
	if ctx.Err() == nil {
		start()
	}
}
