package podsecurity

import (
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are upstream's PodSecurity metrics (the library's
// PrometheusRecorder, whose component-base registry regis does not use):
// pod_security_evaluations_total, pod_security_exemptions_total and
// pod_security_errors_total with upstream's labels. Give them to
// Config.Metrics and serve their Collectors.
type Metrics struct {
	version     psapi.Version
	evaluations *prometheus.CounterVec
	exemptions  *prometheus.CounterVec
	errors      *prometheus.CounterVec
}

var _ metrics.Recorder = (*Metrics)(nil)

// NewMetrics returns the metrics of a server of Kubernetes version
// major.minor (a policy version past it is counted as "future").
func NewMetrics(major, minor int) *Metrics {
	return &Metrics{
		version: psapi.MajorMinorVersion(major, minor),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pod_security_evaluations_total",
			Help: "Number of policy evaluations that occurred, not counting ignored or exempt requests.",
		}, []string{"decision", "policy_level", "policy_version", "mode", "request_operation", "resource", "subresource"}),
		exemptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pod_security_exemptions_total",
			Help: "Number of exempt requests, not counting ignored or out of scope requests.",
		}, []string{"request_operation", "resource", "subresource"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pod_security_errors_total",
			Help: "Number of errors preventing normal evaluation. Non-fatal errors may result in the latest restricted profile being used for evaluation.",
		}, []string{"fatal", "request_operation", "resource", "subresource"}),
	}
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.evaluations, m.exemptions, m.errors}
}

// RecordEvaluation counts an evaluation, as upstream's recorder.
func (m *Metrics) RecordEvaluation(decision metrics.Decision, policy psapi.LevelVersion, mode metrics.Mode, attrs psapi.Attributes) {
	version := "latest"
	if !policy.Version.Latest() && policy.Level != psapi.LevelPrivileged { // privileged is always effectively latest
		version = "future"
		if !m.version.Older(policy.Version) {
			version = policy.Version.String()
		}
	}
	m.evaluations.WithLabelValues(string(decision), string(policy.Level), version, string(mode),
		operationLabel(attrs.GetOperation()), resourceLabel(attrs.GetResource()), attrs.GetSubresource()).Inc()
}

// RecordExemption counts an exempt request.
func (m *Metrics) RecordExemption(attrs psapi.Attributes) {
	m.exemptions.WithLabelValues(operationLabel(attrs.GetOperation()), resourceLabel(attrs.GetResource()), attrs.GetSubresource()).Inc()
}

// RecordError counts an error.
func (m *Metrics) RecordError(fatal bool, attrs psapi.Attributes) {
	m.errors.WithLabelValues(strconv.FormatBool(fatal), operationLabel(attrs.GetOperation()),
		resourceLabel(attrs.GetResource()), attrs.GetSubresource()).Inc()
}

func resourceLabel(r schema.GroupVersionResource) string {
	switch r.GroupResource() {
	case podsResource:
		return "pod"
	case namespacesResource:
		return "namespace"
	default:
		return "controller"
	}
}

func operationLabel(op admissionv1.Operation) string {
	return strings.ToLower(string(op))
}

// noMetrics drops the library's metrics.
type noMetrics struct{}

func (noMetrics) RecordEvaluation(metrics.Decision, psapi.LevelVersion, metrics.Mode, psapi.Attributes) {
}
func (noMetrics) RecordExemption(psapi.Attributes)   {}
func (noMetrics) RecordError(bool, psapi.Attributes) {}
