package apiserver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/regis-dev/regis/internal/registry"
)

// Metrics are the server's request metrics, under kube-apiserver's names,
// on a registry of their own (nothing is registered globally).
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	longrunning *prometheus.GaugeVec
	watchEvents *prometheus.CounterVec
}

var requestLabels = []string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"}

// NewMetrics returns the request metrics, registered on reg with the
// given extra collectors (the etcd store's, the Go runtime's) and
// apiserver_storage_objects, computed from the registry's storages at
// scrape time.
func NewMetrics(registry *registry.Registry, extra ...prometheus.Collector) (*Metrics, error) {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
		}, append(append([]string{}, requestLabels...), "code")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "apiserver_request_duration_seconds",
			Help: "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
			Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
				4, 5, 6, 8, 10, 15, 20, 30, 45, 60},
		}, requestLabels),
		longrunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_longrunning_requests",
			Help: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.",
		}, []string{"verb", "group", "version", "resource", "subresource", "scope", "component"}),
		watchEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_events_total",
			Help: "Number of events sent in watch clients",
		}, []string{"group", "version", "kind"}),
	}
	cs := []prometheus.Collector{m.requests, m.duration, m.longrunning, m.watchEvents, &storageObjects{registry}}
	for _, c := range append(cs, extra...) {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Registry returns the Prometheus registry, for more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func scope(info requestInfo) string {
	switch {
	case info.name != "":
		return "resource"
	case info.namespace != "":
		return "namespace"
	case info.resourceRequest:
		return "cluster"
	}
	return ""
}

// metricVerb is upstream's verb label (its CleanVerb): the HTTP method
// made canonical, LIST and WATCH told from GET, APPLY from PATCH, CONNECT
// for the connection subresources.
func metricVerb(r *http.Request, info requestInfo) string {
	if !info.resourceRequest {
		return r.Method
	}
	switch info.verb {
	case "get":
		return "GET"
	case "list":
		return "LIST"
	case "watch":
		return "WATCH"
	case "create":
		if connectSubresources[info.subresource] {
			return "CONNECT"
		}
		return "POST"
	case "update":
		return "PUT"
	case "patch":
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); ct == "application/apply-patch+yaml" {
			return "APPLY"
		}
		return "PATCH"
	case "delete", "deletecollection":
		return "DELETE"
	}
	if connectSubresources[info.subresource] {
		return "CONNECT"
	}
	return strings.ToUpper(info.verb)
}

func (m *Metrics) observe(r *http.Request, info requestInfo, code int, d time.Duration) {
	verb := metricVerb(r, info)
	dry := ""
	if query(r).Has("dryRun") {
		dry = "All"
	}
	labels := []string{verb, dry, info.group, info.version, info.resource, info.subresource, scope(info), "apiserver"}
	m.requests.WithLabelValues(append(labels, strconv.Itoa(code))...).Inc()
	if !info.longRunning {
		m.duration.WithLabelValues(labels...).Observe(d.Seconds())
	}
}

func (m *Metrics) longRunning(info requestInfo, delta float64) {
	m.longrunning.WithLabelValues(strings.ToUpper(info.verb), info.group, info.version, info.resource, info.subresource, scope(info), "apiserver").Add(delta)
}

// storageObjects is apiserver_storage_objects, read from each storage's
// Stats when scraped (upstream polls every minute).
type storageObjects struct{ reg *registry.Registry }

var storageObjectsDesc = prometheus.NewDesc("apiserver_storage_objects",
	"Number of stored objects at the time of last check split by kind.", []string{"resource"}, nil)

func (s *storageObjects) Describe(ch chan<- *prometheus.Desc) { ch <- storageObjectsDesc }

func (s *storageObjects) Collect(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	for _, st := range s.reg.Stores() {
		res := st.Resource()
		name := res.GroupResource().String()
		if seen[name] || res.Convert != nil { // a converted resource shares another's objects
			continue
		}
		seen[name] = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		stats, err := st.Storage().Stats(ctx)
		cancel()
		n := float64(stats.ObjectCount)
		if err != nil {
			n = -1
		}
		ch <- prometheus.MustNewConstMetric(storageObjectsDesc, prometheus.GaugeValue, n, name)
	}
}
