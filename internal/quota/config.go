package quota

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Configuration is the ResourceQuota entry of --admission-control-config-file
// (upstream's ResourceQuotaConfiguration, apiserver.config.k8s.io/v1, or
// Configuration of resourcequota.admission.k8s.io/v1beta1 and v1alpha1).
type Configuration struct {
	metav1.TypeMeta `json:",inline"`
	// LimitedResources are consumed only in namespaces with a quota that
	// covers them.
	LimitedResources []LimitedResource `json:"limitedResources"`
}

// LimitedResource is a resource whose use needs a covering quota: the
// usage names containing one of MatchContains, or objects matching one
// of MatchScopes.
type LimitedResource struct {
	APIGroup      string                                     `json:"apiGroup,omitempty"`
	Resource      string                                     `json:"resource"`
	MatchContains []string                                   `json:"matchContains,omitempty"`
	MatchScopes   []corev1.ScopedResourceSelectorRequirement `json:"matchScopes,omitempty"`
}

// DeepCopyObject copies the configuration.
func (c *Configuration) DeepCopyObject() runtime.Object {
	out := &Configuration{TypeMeta: c.TypeMeta, LimitedResources: make([]LimitedResource, len(c.LimitedResources))}
	for i, l := range c.LimitedResources {
		l.MatchContains = slices.Clone(l.MatchContains)
		scopes := make([]corev1.ScopedResourceSelectorRequirement, len(l.MatchScopes))
		for j := range l.MatchScopes {
			l.MatchScopes[j].DeepCopyInto(&scopes[j])
		}
		l.MatchScopes = scopes
		out.LimitedResources[i] = l
	}
	return out
}

// LoadConfiguration decodes and validates the plugin's configuration as
// upstream (strictly; the resource of each limited resource required);
// nil data is the default: nothing limited.
func LoadConfiguration(data []byte) (*Configuration, error) {
	if data == nil {
		return &Configuration{}, nil
	}
	scheme := runtime.NewScheme()
	scheme.AddKnownTypeWithName(schema.GroupVersionKind{Group: "apiserver.config.k8s.io", Version: "v1", Kind: "ResourceQuotaConfiguration"}, &Configuration{})
	for _, v := range []string{"v1beta1", "v1alpha1"} {
		scheme.AddKnownTypeWithName(schema.GroupVersionKind{Group: "resourcequota.admission.k8s.io", Version: v, Kind: "Configuration"}, &Configuration{})
	}
	obj, _, err := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	c, ok := obj.(*Configuration)
	if !ok {
		return nil, fmt.Errorf("unexpected type: %T", obj)
	}
	var errs field.ErrorList
	for i, l := range c.LimitedResources {
		if l.Resource == "" {
			errs = append(errs, field.Required(field.NewPath("limitedResources").Index(i).Child("resource"), ""))
		}
	}
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return c, nil
}

// limits are what a request's limited resources require of the quotas:
// the usage names and the scopes a covering quota must have.
type limits struct {
	names  []corev1.ResourceName
	scopes []corev1.ScopedResourceSelectorRequirement
	// skip is set when matching the scopes failed: upstream then checks
	// nothing at all.
	skip bool
}

// limitsOf is upstream's getMatchedLimitedScopes and limitedByDefault for
// a request: the limited scopes its object matches (of every limited
// resource, as upstream), and the usage names it consumes that its
// resource's limited entries match.
func limitsOf(limited []LimitedResource, gr schema.GroupResource, e evaluator, obj runtime.Object) (limits, error) {
	var l limits
	if len(limited) == 0 {
		return l, nil
	}
	for _, lr := range limited {
		for _, s := range lr.MatchScopes {
			ok, err := e.matchesScope(s, obj)
			if err != nil {
				return limits{skip: true}, nil
			}
			if ok {
				l.scopes = append(l.scopes, s)
			}
		}
	}
	var mine []LimitedResource
	for _, lr := range limited {
		if lr.APIGroup == gr.Group && lr.Resource == gr.Resource {
			mine = append(mine, lr)
		}
	}
	if len(mine) == 0 {
		return l, nil
	}
	usage, err := e.usage(obj)
	if err != nil {
		return l, err
	}
	for _, lr := range mine {
		for name, q := range usage {
			if q.Sign() != 1 {
				continue
			}
			for _, c := range lr.MatchContains {
				if strings.Contains(string(name), c) {
					l.names = append(l.names, name)
					break
				}
			}
		}
	}
	return l, nil
}
