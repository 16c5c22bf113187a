package cacher

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Metrics are the cacher's collectors, under kube-apiserver's names where
// it has one (reference §6.7; cacher/metrics/metrics.go), and regis's own
// for what it lacks (watchers, memory). The assembly makes one set per
// server, gives it to every cache of the server (Config.Metrics) and
// registers Collectors on the server's own registry, so that two servers in
// one process count apart.
type Metrics struct {
	listCacheTotal            *prometheus.CounterVec
	listCacheFetched          *prometheus.CounterVec
	listCacheReturned         *prometheus.CounterVec
	storageListTotal          *prometheus.CounterVec
	initEventsTotal           *prometheus.CounterVec
	eventsReceivedTotal       *prometheus.CounterVec
	eventsDispatchedTotal     *prometheus.CounterVec
	terminatedWatchersTotal   *prometheus.CounterVec
	resourceVersionGauge      *prometheus.GaugeVec
	capacityIncreaseTotal     *prometheus.CounterVec
	capacityDecreaseTotal     *prometheus.CounterVec
	capacityGauge             *prometheus.GaugeVec
	initializationsTotal      *prometheus.CounterVec
	initializationErrorsTotal *prometheus.CounterVec
	initializationDuration    *prometheus.HistogramVec
	readWaitSeconds           *prometheus.HistogramVec
	consistentReadTotal       *prometheus.CounterVec
	dispatchDuration          *prometheus.HistogramVec
	watchersGauge             *prometheus.GaugeVec
	objectsGauge              *prometheus.GaugeVec
	memoryBytesGauge          *prometheus.GaugeVec
	overBudgetGauge           *prometheus.GaugeVec
	relistsTotal              *prometheus.CounterVec
}

// NewMetrics returns a new, unregistered set of the cacher's metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		listCacheTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_cache_list_total",
			Help: "Number of LIST requests served from watch cache",
		}, []string{"group", "resource", "index"}),
		listCacheFetched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_cache_list_fetched_objects_total",
			Help: "Number of objects read from watch cache in the course of serving a LIST request",
		}, []string{"group", "resource", "index"}),
		listCacheReturned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_cache_list_returned_objects_total",
			Help: "Number of objects returned for a LIST request from watch cache",
		}, []string{"group", "resource"}),
		storageListTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_storage_list_total",
			Help: "Number of LIST requests served from storage",
		}, []string{"group", "resource", "storage", "index"}),
		initEventsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_init_events_total",
			Help: "Counter of init events processed in watch cache broken by resource type.",
		}, []string{"group", "resource"}),
		eventsReceivedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_cache_events_received_total",
			Help: "Counter of events received in watch cache broken by resource type.",
		}, []string{"group", "resource"}),
		eventsDispatchedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_cache_events_dispatched_total",
			Help: "Counter of events dispatched in watch cache broken by resource type.",
		}, []string{"group", "resource"}),
		terminatedWatchersTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_terminated_watchers_total",
			Help: "Counter of watchers closed due to unresponsiveness broken by resource type.",
		}, []string{"group", "resource"}),
		resourceVersionGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_watch_cache_resource_version",
			Help: "Current resource version of watch cache broken by resource type. This is truncated to the 15 least significant digits.",
		}, []string{"group", "resource"}),
		capacityIncreaseTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "watch_cache_capacity_increase_total",
			Help: "Total number of watch cache capacity increase events broken by resource type.",
		}, []string{"group", "resource"}),
		capacityDecreaseTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "watch_cache_capacity_decrease_total",
			Help: "Total number of watch cache capacity decrease events broken by resource type.",
		}, []string{"group", "resource"}),
		capacityGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "watch_cache_capacity",
			Help: "Total capacity of watch cache broken by resource type.",
		}, []string{"group", "resource"}),
		initializationsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_cache_initializations_total",
			Help: "Counter of watch cache initializations broken by resource type.",
		}, []string{"group", "resource"}),
		initializationErrorsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_cache_initialization_errors_total",
			Help: "Counter of watch cache initialization errors broken by resource type.",
		}, []string{"group", "resource"}),
		initializationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_watch_cache_initialization_duration_seconds",
			Help:    "Histogram of watch cache initialization duration in seconds, broken by resource type.",
			Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 5, 10, 30, 60},
		}, []string{"group", "resource"}),
		readWaitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_watch_cache_read_wait_seconds",
			Help:    "Histogram of time spent waiting for a watch cache to become fresh.",
			Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3},
		}, []string{"group", "resource"}),
		consistentReadTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_cache_consistent_read_total",
			Help: "Counter for consistent reads from cache.",
		}, []string{"group", "resource", "success", "fallback"}),
		dispatchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_watch_events_dispatch_duration_seconds",
			Help:    "Histogram of watch event dispatch latency broken by resource type and pipeline stage. The 'total' stage is the end-to-end latency of a delivered event.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"group", "resource", "stage"}),

		// regis's own.
		watchersGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_watch_cache_watchers",
			Help: "Number of watchers served by the watch cache, broken by resource type.",
		}, []string{"group", "resource"}),
		objectsGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_watch_cache_objects",
			Help: "Number of objects held by the watch cache, broken by resource type.",
		}, []string{"group", "resource"}),
		memoryBytesGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_watch_cache_memory_bytes",
			Help: "Encoded size of the objects (and of their cached serializations) held by the watch cache, broken by resource type.",
		}, []string{"group", "resource"}),
		overBudgetGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_watch_cache_over_memory_budget",
			Help: "1 while the watch cache of a resource is over --watch-cache-max-bytes and sends lists to etcd, else 0.",
		}, []string{"group", "resource"}),
		relistsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_cache_relists_total",
			Help: "Number of times the watch cache relisted etcd after its watch could not be resumed, broken by resource type.",
		}, []string{"group", "resource"}),
	}
}

// Collectors returns the metrics, for registration by the server.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.listCacheTotal, m.listCacheFetched, m.listCacheReturned, m.storageListTotal,
		m.initEventsTotal, m.eventsReceivedTotal, m.eventsDispatchedTotal, m.terminatedWatchersTotal,
		m.resourceVersionGauge, m.capacityIncreaseTotal, m.capacityDecreaseTotal, m.capacityGauge,
		m.initializationsTotal, m.initializationErrorsTotal, m.initializationDuration, m.readWaitSeconds,
		m.consistentReadTotal, m.dispatchDuration, m.watchersGauge, m.objectsGauge, m.memoryBytesGauge,
		m.overBudgetGauge, m.relistsTotal}
}

// resourceMetrics are one resource's children of the vectors, resolved once.
type resourceMetrics struct {
	gr                 schema.GroupResource
	eventsReceived     prometheus.Counter
	eventsDispatched   prometheus.Counter
	terminated         prometheus.Counter
	initEvents         prometheus.Counter
	resourceVersion    prometheus.Gauge
	capacity           prometheus.Gauge
	capacityIncrease   prometheus.Counter
	capacityDecrease   prometheus.Counter
	initializations    prometheus.Counter
	initErrors         prometheus.Counter
	initDuration       prometheus.Observer
	readWait           prometheus.Observer
	watchers           prometheus.Gauge
	objects            prometheus.Gauge
	memory             prometheus.Gauge
	overBudget         prometheus.Gauge
	relists            prometheus.Counter
	dispatchTotal      prometheus.Observer
	listCacheReturned  prometheus.Counter
	consistentReadVec  *prometheus.CounterVec
	listCacheTotalVec  *prometheus.CounterVec
	listCacheFetchVec  *prometheus.CounterVec
	storageListVec     *prometheus.CounterVec
	listCounters       sync.Map // index → *listCounters: the label lookups of listFromCache, made once
	resourceVersionMod float64
}

// forResource resolves the children of the vectors for gr.
func (m *Metrics) forResource(gr schema.GroupResource) *resourceMetrics {
	g, r := gr.Group, gr.Resource
	return &resourceMetrics{
		gr:                 gr,
		eventsReceived:     m.eventsReceivedTotal.WithLabelValues(g, r),
		eventsDispatched:   m.eventsDispatchedTotal.WithLabelValues(g, r),
		terminated:         m.terminatedWatchersTotal.WithLabelValues(g, r),
		initEvents:         m.initEventsTotal.WithLabelValues(g, r),
		resourceVersion:    m.resourceVersionGauge.WithLabelValues(g, r),
		capacity:           m.capacityGauge.WithLabelValues(g, r),
		capacityIncrease:   m.capacityIncreaseTotal.WithLabelValues(g, r),
		capacityDecrease:   m.capacityDecreaseTotal.WithLabelValues(g, r),
		initializations:    m.initializationsTotal.WithLabelValues(g, r),
		initErrors:         m.initializationErrorsTotal.WithLabelValues(g, r),
		initDuration:       m.initializationDuration.WithLabelValues(g, r),
		readWait:           m.readWaitSeconds.WithLabelValues(g, r),
		watchers:           m.watchersGauge.WithLabelValues(g, r),
		objects:            m.objectsGauge.WithLabelValues(g, r),
		memory:             m.memoryBytesGauge.WithLabelValues(g, r),
		overBudget:         m.overBudgetGauge.WithLabelValues(g, r),
		relists:            m.relistsTotal.WithLabelValues(g, r),
		dispatchTotal:      m.dispatchDuration.WithLabelValues(g, r, "total"),
		listCacheReturned:  m.listCacheReturned.WithLabelValues(g, r),
		consistentReadVec:  m.consistentReadTotal,
		listCacheTotalVec:  m.listCacheTotal,
		listCacheFetchVec:  m.listCacheFetched,
		storageListVec:     m.storageListTotal,
		resourceVersionMod: 1e15,
	}
}

// recordResourceVersion keeps the last 15 decimal digits, as upstream.
func (m *resourceMetrics) recordResourceVersion(rv uint64) {
	m.resourceVersion.Set(float64(rv % uint64(m.resourceVersionMod)))
}

func (m *resourceMetrics) recordCapacity(before, after int) {
	switch {
	case after > before:
		m.capacityIncrease.Inc()
	case after < before:
		m.capacityDecrease.Inc()
	default:
		return
	}
	m.capacity.Set(float64(after))
}

// listFromCache records a list served by the cache.
func (m *resourceMetrics) listFromCache(index string, fetched, returned int) {
	c, ok := m.listCounters.Load(index)
	if !ok {
		g, r := m.gr.Group, m.gr.Resource
		c, _ = m.listCounters.LoadOrStore(index, &listCounters{
			total:   m.listCacheTotalVec.WithLabelValues(g, r, index),
			fetched: m.listCacheFetchVec.WithLabelValues(g, r, index),
			storage: m.storageListVec.WithLabelValues(g, r, "watchcache", index),
		})
	}
	lc := c.(*listCounters)
	lc.total.Inc()
	lc.fetched.Add(float64(fetched))
	m.listCacheReturned.Add(float64(returned))
	lc.storage.Inc()
}

// listCounters are the counters of lists served by the cache with one
// index ("" for none); the indexes are the resource's few.
type listCounters struct {
	total, fetched, storage prometheus.Counter
}

// listFromEtcd records a list the cacher sent to etcd.
func (m *resourceMetrics) listFromEtcd() {
	m.storageListVec.WithLabelValues(m.gr.Group, m.gr.Resource, "etcd", "").Inc()
}

func (m *resourceMetrics) consistentRead(success, fallback bool) {
	s, f := "true", "false"
	if !success {
		s = "false"
	}
	if fallback {
		f = "true"
	}
	m.consistentReadVec.WithLabelValues(m.gr.Group, m.gr.Resource, s, f).Inc()
}
