// Package audit is kube-apiserver's audit logging: the audit.k8s.io/v1
// Policy of --audit-policy-file, evaluated per request as upstream's
// policy checker, and the audit.k8s.io/v1 Event JSON lines of its log
// backend (--audit-log-path), with size-based rotation and the blocking,
// blocking-strict and batch modes. The objects of secrets and other
// credentials are never written, whatever the policy's level (see
// Sensitive). The apiserver fills the events as a request goes through
// authentication, authorization and its handler.
package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/authz"
)

// maxPolicyBytes bounds a policy file: upstream reads it whole; a policy
// of a few thousand rules fits in far less.
const maxPolicyBytes = 10 << 20

// Policy is a loaded audit policy: its rules, in order, with the
// policy-wide omitStages merged into each as upstream's evaluator does.
type Policy struct {
	rules             []auditv1.PolicyRule
	omitStages        []auditv1.Stage
	omitManagedFields bool
}

// RequestConfig is what a policy says of one request: the level of its
// event, the stages not written and whether managedFields are dropped
// from the objects.
type RequestConfig struct {
	Level             auditv1.Level
	OmitStages        []auditv1.Stage
	OmitManagedFields bool
}

// LoadPolicyFile reads and validates an audit policy file, with
// upstream's messages (LoadPolicyFromFile).
func LoadPolicyFile(path string) (*Policy, error) {
	if path == "" {
		return nil, fmt.Errorf("file path not specified")
	}
	data, err := readBounded(path, maxPolicyBytes)
	if err != nil {
		return nil, fmt.Errorf("failed to read file path %q: %+v", path, err)
	}
	p, err := LoadPolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%v: from file %v", err.Error(), path)
	}
	return p, nil
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("file is %d bytes, more than the %d allowed", fi.Size(), limit)
	}
	return os.ReadFile(path)
}

// LoadPolicy decodes and validates a policy (YAML or JSON), as upstream's
// LoadPolicyFromBytes: strict decoding, lenient when only unknown or
// duplicate fields fail it, audit.k8s.io/v1 only, validated, at least one
// rule.
func LoadPolicy(data []byte) (*Policy, error) {
	scheme := runtime.NewScheme()
	_ = auditv1.AddToScheme(scheme)
	policy := &auditv1.Policy{}
	strict := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	if _, _, err := strict.Decode(data, nil, policy); err != nil {
		if !runtime.IsStrictDecodingError(err) {
			return nil, fmt.Errorf("failed decoding: %w", err)
		}
		policy = &auditv1.Policy{}
		lenient := serializer.NewCodecFactory(scheme).UniversalDeserializer()
		if _, _, err := lenient.Decode(data, nil, policy); err != nil {
			return nil, fmt.Errorf("failed lenient decoding: %w", err)
		}
	}
	if gvk := declaredKind(data); gvk.GroupVersion() != auditv1.SchemeGroupVersion {
		return nil, fmt.Errorf("unknown group version field %v in policy", gvk)
	}
	if errs := validatePolicy(policy); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	if len(policy.Rules) == 0 {
		return nil, fmt.Errorf("loaded illegal policy with 0 rules")
	}
	p := &Policy{rules: policy.Rules, omitStages: policy.OmitStages, omitManagedFields: policy.OmitManagedFields}
	for i := range p.rules {
		p.rules[i].OmitStages = unionStages(policy.OmitStages, p.rules[i].OmitStages)
	}
	return p, nil
}

// declaredKind is the kind a policy file declares, with what upstream's
// decoder fills in when a part is missing: it decodes into its internal
// Policy, so a file without apiVersion is audit.k8s.io/__internal and is
// refused.
func declaredKind(data []byte) schema.GroupVersionKind {
	var tm metav1.TypeMeta
	_ = yaml.Unmarshal(data, &tm)
	gvk := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
	if gvk.Group == "" && gvk.Version == "" {
		gvk.Group, gvk.Version = auditv1.GroupName, runtime.APIVersionInternal
	}
	if gvk.Kind == "" {
		gvk.Kind = "Policy"
	}
	return gvk
}

func unionStages(lists ...[]auditv1.Stage) []auditv1.Stage {
	var out []auditv1.Stage
	for _, l := range lists {
		for _, s := range l {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Evaluate returns the config of the first rule a request matches, or
// level None with the policy's omitStages (upstream's
// EvaluatePolicyRule).
func (p *Policy) Evaluate(a *authz.Attributes) RequestConfig {
	for i := range p.rules {
		r := &p.rules[i]
		if ruleMatches(r, a) {
			omf := p.omitManagedFields
			if r.OmitManagedFields != nil {
				omf = *r.OmitManagedFields
			}
			return RequestConfig{Level: r.Level, OmitStages: r.OmitStages, OmitManagedFields: omf}
		}
	}
	return RequestConfig{Level: auditv1.LevelNone, OmitStages: p.omitStages, OmitManagedFields: p.omitManagedFields}
}

func ruleMatches(r *auditv1.PolicyRule, a *authz.Attributes) bool {
	u := a.User
	if len(r.Users) > 0 && (u == nil || !slices.Contains(r.Users, u.Name)) {
		return false
	}
	if len(r.UserGroups) > 0 {
		if u == nil || !slices.ContainsFunc(u.Groups, func(g string) bool { return slices.Contains(r.UserGroups, g) }) {
			return false
		}
	}
	if len(r.Verbs) > 0 && !slices.Contains(r.Verbs, a.Verb) {
		return false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		return ruleMatchesResource(r, a)
	}
	if len(r.NonResourceURLs) > 0 {
		return ruleMatchesNonResource(r, a)
	}
	return true
}

func ruleMatchesNonResource(r *auditv1.PolicyRule, a *authz.Attributes) bool {
	if a.ResourceRequest {
		return false
	}
	for _, spec := range r.NonResourceURLs {
		if pathMatches(a.Path, spec) {
			return true
		}
	}
	return false
}

func pathMatches(path, spec string) bool {
	if spec == "*" || spec == path {
		return true
	}
	return strings.HasSuffix(spec, "*") && strings.HasPrefix(path, strings.TrimRight(spec, "*"))
}

func ruleMatchesResource(r *auditv1.PolicyRule, a *authz.Attributes) bool {
	if !a.ResourceRequest {
		return false
	}
	if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, a.Namespace) {
		return false
	}
	if len(r.Resources) == 0 {
		return true
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined = a.Resource + "/" + a.Subresource
	}
	for _, gr := range r.Resources {
		if gr.Group != a.APIGroup && gr.Group != "*" {
			continue
		}
		if len(gr.Resources) == 0 {
			return true
		}
		for _, res := range gr.Resources {
			if len(gr.ResourceNames) > 0 && !slices.Contains(gr.ResourceNames, a.Name) {
				continue
			}
			switch {
			case res == combined || res == "*":
				return true
			case a.Subresource != "" && strings.HasPrefix(res, "*/") && a.Subresource == strings.TrimPrefix(res, "*/"):
				return true
			case strings.HasSuffix(res, "/*") && a.Resource == strings.TrimSuffix(res, "/*"):
				return true
			}
		}
	}
	return false
}
