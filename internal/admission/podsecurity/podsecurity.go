// Package podsecurity is kube-apiserver's admission plugin PodSecurity:
// the pod-security.kubernetes.io/{enforce,audit,warn}[-version] labels of
// a namespace decide which Pod Security Standard its pods must meet
// (enforce: refused with 403), are recorded against (audit: audit
// annotations) or are warned about (warn: Warning headers). It is
// upstream's plugin (plugin/pkg/admission/security/podsecurity) over
// upstream's library k8s.io/pod-security-admission: the library's
// admission.Admission decides; this package gives it the registry's
// namespaces and pods and turns its responses into regis's errors,
// warnings and audit annotations.
package podsecurity

import (
	"context"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	psadmission "k8s.io/pod-security-admission/admission"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/metrics"
	"k8s.io/pod-security-admission/policy"

	"github.com/regis-dev/regis/internal/registry"
)

// PluginName is upstream's name of the plugin.
const PluginName = "PodSecurity"

// Config is what the plugin is built from.
type Config struct {
	// Registry serves the namespaces and pods the plugin reads.
	Registry *registry.Registry
	// ConfigFile is --admission-control-config-file: upstream's
	// AdmissionConfiguration, whose PodSecurity entry holds a
	// PodSecurityConfiguration (defaults and exemptions). Empty: the
	// defaults (privileged:latest for all three modes, no exemptions).
	ConfigFile string
	// AuditAnnotations, when set, records the plugin's audit annotations
	// (pod-security.kubernetes.io/enforce-policy, audit-violations,
	// exempt, error) on the request's audit event, as upstream's
	// audit.AddAuditAnnotations; nil drops them.
	AuditAnnotations func(ctx context.Context, keysAndValues ...string)
	// Metrics, when set, count the evaluations, exemptions and errors
	// (upstream's pod_security_* metrics); nil counts nothing.
	Metrics *Metrics
}

// Plugin is the PodSecurity admission plugin: a validating plugin (its
// Admit does nothing).
type Plugin struct {
	delegate *psadmission.Admission
	audit    func(ctx context.Context, keysAndValues ...string)
}

var _ registry.Admission = (*Plugin)(nil)

// New builds the plugin, reading its configuration from cfg.ConfigFile
// with upstream's rules and messages.
func New(cfg Config) (*Plugin, error) {
	if cfg.Registry == nil {
		return nil, errors.New("podsecurity: no registry")
	}
	data, err := pluginConfig(cfg.ConfigFile, PluginName)
	if err != nil {
		return nil, err
	}
	return newPlugin(cfg, data)
}

// newPlugin builds the plugin from the PodSecurityConfiguration data
// (nil: the defaults).
func newPlugin(cfg Config, data []byte) (*Plugin, error) {
	conf, err := loadConfiguration(data)
	if err != nil {
		return nil, err
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("could not create PodSecurityRegistry: %w", err)
	}
	d := &psadmission.Admission{
		Configuration:    conf,
		Evaluator:        evaluator,
		Metrics:          metricsOf(cfg),
		PodSpecExtractor: psadmission.DefaultPodSpecExtractor{},
		NamespaceGetter:  namespaceGetter{reg: cfg.Registry},
		PodLister:        podLister{reg: cfg.Registry},
	}
	if err := d.CompleteConfiguration(); err != nil {
		return nil, fmt.Errorf("%s configuration error: %w", PluginName, err)
	}
	if err := d.ValidateConfiguration(); err != nil {
		return nil, fmt.Errorf("%s invalid: %w", PluginName, err)
	}
	return &Plugin{delegate: d, audit: cfg.AuditAnnotations}, nil
}

var (
	podsResource       = corev1.Resource("pods")
	namespacesResource = corev1.Resource("namespaces")
)

// Admit does nothing: PodSecurity only validates.
func (*Plugin) Admit(context.Context, *registry.Attributes) error { return nil }

// Validate admits a create or update of a pod, a namespace or a workload
// with a pod template, as upstream's Plugin.Validate.
func (p *Plugin) Validate(ctx context.Context, a *registry.Attributes) error {
	if a.Operation != registry.OpCreate && a.Operation != registry.OpUpdate {
		return nil // upstream's handler: admission.NewHandler(Create, Update)
	}
	gr := a.Resource.GroupResource()
	if gr != podsResource && gr != namespacesResource && !p.delegate.PodSpecExtractor.HasPodSpec(gr) {
		return nil
	}
	result := p.delegate.Validate(ctx, &attributes{a: a})
	for _, w := range result.Warnings {
		registry.AddWarning(ctx, w)
	}
	if p.audit != nil && len(result.AuditAnnotations) > 0 {
		kv := make([]string, 0, 2*len(result.AuditAnnotations))
		for k, v := range result.AuditAnnotations {
			kv = append(kv, psapi.AuditAnnotationPrefix+k, v)
		}
		p.audit(ctx, kv...)
	}
	if result.Allowed {
		return nil
	}
	return refusal(a, result)
}

// refusal is the error of a refused request: upstream's generic
// forbidden error with the message, reason, details and code of the
// library's result where it has them.
func refusal(a *registry.Attributes, result *admissionv1.AdmissionResponse) error {
	err := apierrors.NewForbidden(a.Resource.GroupResource(), a.Name, errors.New("Not allowed by PodSecurity"))
	if r := result.Result; r != nil {
		if r.Message != "" {
			err.ErrStatus.Message = r.Message
		}
		if r.Reason != "" {
			err.ErrStatus.Reason = r.Reason
		}
		if r.Details != nil {
			err.ErrStatus.Details = r.Details
		}
		if r.Code != 0 {
			err.ErrStatus.Code = r.Code
		}
	}
	return err
}

func metricsOf(cfg Config) metrics.Recorder {
	if cfg.Metrics == nil {
		return noMetrics{}
	}
	return cfg.Metrics
}
