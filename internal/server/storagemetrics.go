package server

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storageCollector serves kube-apiserver's apiserver_storage_size_bytes
// (the database size of a random endpoint's member, asked at each scrape
// within a second, storage_cluster_id "etcd-0": regis has one storage
// backend) and the compacted revision the compactor knows.
type storageCollector struct {
	b         *Backend
	size      *prometheus.Desc
	compacted *prometheus.Desc
}

func newStorageCollector(b *Backend) *storageCollector {
	return &storageCollector{b: b,
		size: prometheus.NewDesc("apiserver_storage_size_bytes", "Size of the storage database file physically allocated in bytes.",
			[]string{"storage_cluster_id"}, nil),
		compacted: prometheus.NewDesc("regis_etcd_compacted_revision", "The etcd revision the cluster's last compaction reached (reads below it are 410 Gone).",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.size; ch <- c.compacted }

// Collect implements prometheus.Collector.
func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	if c.b.Compactor != nil {
		ch <- prometheus.MustNewConstMetric(c.compacted, prometheus.GaugeValue, float64(c.b.Compactor.CompactRevision()))
	}
	eps := c.b.Client.Endpoints()
	if len(eps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := c.b.Client.Status(ctx, eps[rand.IntN(len(eps))])
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(st.DbSize), "etcd-0")
}
