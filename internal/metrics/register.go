// Package metrics holds what regis's packages share about their
// prometheus metrics.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers cs with r. A collector registered before is not an
// error, so that several servers in one process (tests, embedding) can
// share the package-level collectors.
func Register(r prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}
