package v1

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the audit API's group.
const GroupName = "audit.k8s.io"

// SchemeGroupVersion is audit.k8s.io/v1.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}

// AddToScheme registers Policy, the one kind read through a scheme (from
// --audit-policy-file); events are written as plain JSON.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(SchemeGroupVersion, &Policy{})
	return nil
}

// GreaterOrEqual tells whether level l records at least what o does.
func (l Level) GreaterOrEqual(o Level) bool {
	return ord(l) >= ord(o)
}

// ord is a level's rank; an unknown level ranks as None.
func ord(l Level) int {
	return max(slices.Index(Levels, l), 0)
}

// DeepCopyObject copies the policy.
func (p *Policy) DeepCopyObject() runtime.Object {
	if p == nil {
		return nil
	}
	out := &Policy{TypeMeta: p.TypeMeta, OmitManagedFields: p.OmitManagedFields, OmitStages: slices.Clone(p.OmitStages)}
	p.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	if p.Rules != nil {
		out.Rules = make([]PolicyRule, len(p.Rules))
		for i := range p.Rules {
			out.Rules[i] = p.Rules[i].DeepCopy()
		}
	}
	return out
}

// DeepCopy copies the rule.
func (r PolicyRule) DeepCopy() PolicyRule {
	out := r
	out.Users, out.UserGroups, out.Verbs = slices.Clone(r.Users), slices.Clone(r.UserGroups), slices.Clone(r.Verbs)
	out.Namespaces, out.NonResourceURLs, out.OmitStages = slices.Clone(r.Namespaces), slices.Clone(r.NonResourceURLs), slices.Clone(r.OmitStages)
	if r.OmitManagedFields != nil {
		b := *r.OmitManagedFields
		out.OmitManagedFields = &b
	}
	if r.Resources != nil {
		out.Resources = make([]GroupResources, len(r.Resources))
		for i, gr := range r.Resources {
			out.Resources[i] = GroupResources{Group: gr.Group, Resources: slices.Clone(gr.Resources), ResourceNames: slices.Clone(gr.ResourceNames)}
		}
	}
	return out
}
