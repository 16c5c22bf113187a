package cacher_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/regis-dev/regis/internal/storage/cacher"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// The server registers the store's and the caches' metrics together.
func TestMetricsRegisterBesideTheStores(t *testing.T) {
	r := prometheus.NewRegistry()
	for _, c := range append(etcd3.NewMetrics().Collectors(), cacher.NewMetrics().Collectors()...) {
		if err := r.Register(c); err != nil {
			t.Fatal(err)
		}
	}
}
