package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/etcd"
)

// errOverridesInvalid is upstream's message for a bad
// --etcd-servers-overrides.
var errOverridesInvalid = errors.New("--etcd-servers-overrides invalid, must be of format: group/resource#servers, where servers are URLs, semicolon separated")

// EtcdOverride is one --etcd-servers-overrides entry: the resource and
// the etcd servers that keep it.
type EtcdOverride struct {
	GroupResource schema.GroupResource
	Servers       []string
}

// ParseEtcdServersOverrides parses --etcd-servers-overrides as
// kube-apiserver does ("group/resource#url;url", "/events#..." for the
// core group).
func ParseEtcdServersOverrides(in []string) ([]EtcdOverride, error) {
	var out []EtcdOverride
	for _, o := range in {
		tokens := strings.Split(o, "#")
		if len(tokens) != 2 {
			return nil, errOverridesInvalid
		}
		gr := strings.Split(tokens[0], "/")
		if len(gr) != 2 {
			return nil, errOverridesInvalid
		}
		servers := strings.Split(tokens[1], ";")
		if slices.Contains(servers, "") {
			return nil, errOverridesInvalid
		}
		out = append(out, EtcdOverride{GroupResource: schema.GroupResource{Group: gr[0], Resource: gr[1]}, Servers: servers})
	}
	return out, nil
}

// StoreBackend is the etcd of some resources: its client and the
// compactor that tells its compacted revision.
type StoreBackend struct {
	Client    *clientv3.Client
	Compactor *etcd.Compactor
}

// overrideBackends are the etcd clusters of --etcd-servers-overrides: one
// client, compactor and health check per distinct set of servers (as
// upstream), the resources each keeps.
type overrideBackends struct {
	byResource map[schema.GroupResource]StoreBackend
	health     []*etcd.HealthCheck
	clients    []*clientv3.Client
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// startOverrides connects to the clusters of --etcd-servers-overrides
// (with the --etcd-cafile, --etcd-certfile and --etcd-keyfile of the main
// cluster, as upstream) and starts their compactors.
func (b *Backend) startOverrides(ctx context.Context, o Options) error {
	b.overrides = &overrideBackends{byResource: map[schema.GroupResource]StoreBackend{}, stop: func() {}}
	parsed, err := ParseEtcdServersOverrides(o.EtcdServersOverrides)
	if err != nil || len(parsed) == 0 {
		return err
	}
	ov := b.overrides
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	ov.stop = stop
	bySet := map[string]StoreBackend{}
	for _, p := range parsed {
		sorted := slices.Sorted(slices.Values(p.Servers))
		key := strings.Join(sorted, ";")
		sb, ok := bySet[key]
		if !ok {
			c, err := etcd.NewClient(p.Servers, etcd.WithTLS(b.tls))
			if err != nil {
				return err
			}
			ov.clients = append(ov.clients, c)
			comp := etcd.NewCompactor(c, o.EtcdCompactionInterval, b.log.With("component", "compactor", "etcd", key))
			ov.wg.Go(func() { _ = comp.Run(cctx) })
			ov.health = append(ov.health, etcd.NewHealthCheck(c, b.Prefix, etcd.DefaultHealthTimeout))
			sb = StoreBackend{Client: c, Compactor: comp}
			bySet[key] = sb
			b.log.Info("etcd override", "servers", p.Servers)
		}
		ov.byResource[p.GroupResource] = sb
	}
	return nil
}

// Overrides returns the etcd of each resource of --etcd-servers-overrides.
func (b *Backend) Overrides() map[schema.GroupResource]StoreBackend {
	if b.overrides == nil {
		return nil
	}
	return b.overrides.byResource
}

// overrideChecks are the health checks of the override clusters, named as
// upstream's: etcd-override-N in /livez and /readyz,
// etcd-override-readiness-N in /readyz.
func (b *Backend) overrideChecks() []apiserver.Check {
	if b.overrides == nil {
		return nil
	}
	var out []apiserver.Check
	for i, h := range b.overrides.health {
		out = append(out,
			apiserver.Check{Name: fmt.Sprintf("etcd-override-%d", i), Livez: true, Readyz: true, Func: h.Check},
			apiserver.Check{Name: fmt.Sprintf("etcd-override-readiness-%d", i), Readyz: true, Func: h.Check})
	}
	return out
}

// closeOverrides stops the override compactors and closes their clients.
func (b *Backend) closeOverrides() {
	if b.overrides == nil {
		return
	}
	b.overrides.stop()
	b.overrides.wg.Wait()
	for _, c := range b.overrides.clients {
		c.Close()
	}
}
