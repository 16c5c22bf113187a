package encryptionconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the encryption configuration's collectors: kube-apiserver's
// reload metrics under their upstream names, and the key names in use. They
// never carry key material. A nil *Metrics records nothing.
type Metrics struct {
	idHash     string
	reloads    *prometheus.CounterVec
	lastReload *prometheus.GaugeVec
	configInfo *prometheus.GaugeVec
	keyInfo    *prometheus.GaugeVec

	mu       sync.Mutex // guards lastHash; held while the info gauges change
	lastHash string
}

// NewMetrics creates the collectors and registers them with reg; with a
// nil reg they are not registered, and the Metrics, itself a
// prometheus.Collector, is registered by its owner. apiServerID labels
// them as kube-apiserver does ("sha256:" + hex hash of the id).
func NewMetrics(reg prometheus.Registerer, apiServerID string) (*Metrics, error) {
	sum := sha256.Sum256([]byte(apiServerID))
	m := &Metrics{
		idHash: "sha256:" + hex.EncodeToString(sum[:]),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_encryption_config_controller_automatic_reloads_total",
			Help: "Total number of reload successes and failures of encryption configuration split by apiserver identity.",
		}, []string{"status", "apiserver_id_hash"}),
		lastReload: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_encryption_config_controller_automatic_reload_last_timestamp_seconds",
			Help: "Timestamp of the last successful or failed automatic reload of encryption configuration split by apiserver identity.",
		}, []string{"status", "apiserver_id_hash"}),
		configInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_encryption_config_controller_last_config_info",
			Help: "Information about the last applied encryption configuration with hash as label, split by apiserver identity.",
		}, []string{"apiserver_id_hash", "hash"}),
		keyInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regis_encryption_config_key_info",
			Help: "Keys of the applied encryption configuration: 1 per resource rule, provider and key name (the KMS provider name for kms); write is true for the key that encrypts new writes. Never key material.",
		}, []string{"resource", "provider", "key", "write"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.reloads, m.lastReload, m.configInfo, m.keyInfo}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// Applied records s as the configuration in use. NewReloader records its
// starting Set; a server without automatic reload calls it once at start.
func (m *Metrics) Applied(s *Set) {
	if m == nil || s == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastHash != "" {
		m.configInfo.DeleteLabelValues(m.idHash, m.lastHash)
	}
	m.lastHash = s.Hash()
	m.configInfo.WithLabelValues(m.idHash, s.Hash()).Set(1)
	m.keyInfo.Reset()
	for _, k := range s.Keys() {
		m.keyInfo.WithLabelValues(k.Resource, k.Provider, k.Key, strconv.FormatBool(k.Write)).Set(1)
	}
}

// reloaded counts one automatic reload attempt.
func (m *Metrics) reloaded(ok bool, now time.Time) {
	if m == nil {
		return
	}
	status := "success"
	if !ok {
		status = "failure"
	}
	m.reloads.WithLabelValues(status, m.idHash).Inc()
	m.lastReload.WithLabelValues(status, m.idHash).Set(float64(now.UnixNano()) / 1e9)
}
