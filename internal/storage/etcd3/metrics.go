package etcd3

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Metrics are the store's collectors, under kube-apiserver's names
// (reference §8.2). The assembly makes one set per server, gives it to
// every store of the server (Config.Metrics) and registers Collectors on
// the server's own registry, so that two servers in one process count
// apart.
type Metrics struct {
	requestDuration     *prometheus.HistogramVec
	requestsTotal       *prometheus.CounterVec
	requestErrorsTotal  *prometheus.CounterVec
	leaseObjectCounts   prometheus.Histogram
	decodeErrorsTotal   *prometheus.CounterVec
	eventsReceivedTotal *prometheus.CounterVec
	bookmarksTotal      *prometheus.CounterVec
	listFetchedTotal    *prometheus.CounterVec
	listReturnedTotal   *prometheus.CounterVec
}

// NewMetrics returns a new, unregistered set of the store's metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "etcd_request_duration_seconds",
			Help: "Etcd request latency in seconds for each operation and object type.",
			Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
				4, 5, 6, 8, 10, 15, 20, 30, 45, 60},
		}, []string{"operation", "group", "resource"}),
		requestsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etcd_requests_total",
			Help: "Etcd request counts for each operation and object type.",
		}, []string{"operation", "group", "resource"}),
		requestErrorsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etcd_request_errors_total",
			Help: "Etcd failed request counts for each operation and object type.",
		}, []string{"operation", "group", "resource"}),
		leaseObjectCounts: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_lease_object_counts",
			Help:    "Number of objects attached to a single etcd lease.",
			Buckets: []float64{10, 50, 100, 500, 1000, 2500, 5000},
		}),
		decodeErrorsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_storage_decode_errors_total",
			Help: "Number of stored object decode errors split by object type.",
		}, []string{"group", "resource"}),
		eventsReceivedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_storage_events_received_total",
			Help: "Number of etcd events received split by kind.",
		}, []string{"group", "resource"}),
		bookmarksTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etcd_bookmark_total",
			Help: "Number of etcd bookmarks (progress notify events) split by kind.",
		}, []string{"group", "resource"}),
		listFetchedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_storage_list_fetched_objects_total",
			Help: "Number of objects read from storage in the course of serving a LIST request.",
		}, []string{"group", "resource", "storage"}),
		listReturnedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_storage_list_returned_objects_total",
			Help: "Number of objects returned for a LIST request from storage.",
		}, []string{"group", "resource", "storage"}),
	}
}

// Collectors returns the metrics, for registration by the server.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requestDuration, m.requestsTotal, m.requestErrorsTotal, m.leaseObjectCounts,
		m.decodeErrorsTotal, m.eventsReceivedTotal, m.bookmarksTotal, m.listFetchedTotal, m.listReturnedTotal}
}

func (m *Metrics) recordRequest(op string, gr schema.GroupResource, err error, start time.Time) {
	m.requestDuration.WithLabelValues(op, gr.Group, gr.Resource).Observe(time.Since(start).Seconds())
	m.requestsTotal.WithLabelValues(op, gr.Group, gr.Resource).Inc()
	if err != nil {
		m.requestErrorsTotal.WithLabelValues(op, gr.Group, gr.Resource).Inc()
	}
}
