package registry

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/authz"
)

// Admission (upstream's admission chain: the built-in plugins, the
// mutating policies and webhooks, the validating policies and webhooks,
// ResourceQuota; the server assembles it as Plugins, in upstream's
// order). The store calls it where upstream's handlers and
// genericregistry.Store do:
//   - create: Admit after the row's defaulting (upstream's decoder
//     defaults the body) and before the server fills in the name, uid
//     and timestamps (rest.BeforeCreate); Validate after the row's
//     validation, just before the write (createValidation);
//   - update, patch, apply: Admit on the new object inside the retry loop,
//     after defaulting and before the strategy resets status or spec
//     (upstream's transformers of rest.DefaultUpdatedObjectInfo);
//     Validate after the strategy's validation (updateValidation);
//   - delete: Admit and Validate with the stored object as the old one
//     (rest.AdmissionToValidateObjectDeleteFunc);
//   - connect (pods/exec, log, proxy…) and actions (pods/eviction,
//     pods/binding): AdmitConnect and AdmitAction, called by the API layer.

// Operation is an admission operation, as in an AdmissionReview.
type Operation string

// The operations.
const (
	OpCreate  Operation = "CREATE"
	OpUpdate  Operation = "UPDATE"
	OpDelete  Operation = "DELETE"
	OpConnect Operation = "CONNECT"
)

// Attributes describe one request to admit (upstream's
// admission.Attributes).
type Attributes struct {
	Operation Operation
	// Object is the new object (nil on delete); Admit may change it in
	// place, then sets Mutated. OldObject is the stored one (update,
	// delete).
	Object, OldObject runtime.Object
	// Kind and Resource are those of the request's version; Subresource
	// is empty for the main resource.
	Kind        schema.GroupVersionKind
	Resource    schema.GroupVersionResource
	Subresource string
	Namespace   string
	Name        string
	DryRun      bool
	// Options is the request's options object (CreateOptions,
	// UpdateOptions, DeleteOptions, or a connection's options).
	Options runtime.Object
	// User made the request; nil for the server's own writes.
	User *authz.User
	// Mutated is set by Admit when it changed Object.
	Mutated bool
}

// Admission is an admission chain, or one plugin of it.
type Admission interface {
	// Admit runs the mutating steps; they change a.Object in place.
	Admit(ctx context.Context, a *Attributes) error
	// Validate runs the validating steps; it must not change the
	// objects (the store passes its own, not copies).
	Validate(ctx context.Context, a *Attributes) error
}

// admissionBox holds the chain of a Registry (set once the chain, which
// reads its configuration through the registry, is built).
type admissionBox struct{ a Admission }

// SetAdmission installs the dynamic admission chain of every store of
// the registry; nil removes it.
func (r *Registry) SetAdmission(a Admission) {
	if a == nil {
		r.admission.Store(nil)
		return
	}
	r.admission.Store(&admissionBox{a: a})
}

// admissionChain returns the store's chain, nil when there is none.
func (s *Store) admissionChain() Admission {
	if s.reg == nil {
		return nil
	}
	if b := s.reg.admission.Load(); b != nil {
		return b.a
	}
	return nil
}

// attributes returns the attributes of a request on the store.
func (s *Store) attributes(ctx context.Context, op Operation, obj, old runtime.Object, namespace, name, sub string, dryRun bool) *Attributes {
	a := &Attributes{Operation: op, Object: obj, OldObject: old, Kind: s.r.GroupVersionKind(),
		Resource: s.r.GroupVersionResource(), Subresource: sub, Name: name, DryRun: dryRun}
	if s.r.Namespaced {
		a.Namespace = namespace
	} else if s.isNamespaces() {
		a.Namespace = name // upstream's create handler: a namespace is in itself
	}
	if u, ok := UserFrom(ctx); ok {
		a.User = u
	}
	var dry []string
	if dryRun {
		dry = []string{metav1.DryRunAll}
	}
	switch op {
	case OpCreate:
		a.Options = &metav1.CreateOptions{TypeMeta: metav1.TypeMeta{Kind: "CreateOptions", APIVersion: "meta.k8s.io/v1"}, DryRun: dry}
	case OpUpdate:
		a.Options = &metav1.UpdateOptions{TypeMeta: metav1.TypeMeta{Kind: "UpdateOptions", APIVersion: "meta.k8s.io/v1"}, DryRun: dry}
	}
	return a
}

// admitCreate runs the mutating chain on a new object.
func (s *Store) admitCreate(ctx context.Context, obj runtime.Object, dryRun bool) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	m := metaOf(obj)
	a := s.attributes(ctx, OpCreate, obj, nil, m.GetNamespace(), m.GetName(), "", dryRun)
	if err := adm.Admit(ctx, a); err != nil {
		return err
	}
	if a.Mutated && s.r.Default != nil {
		s.r.Default(obj) // upstream defaults a patched object again
	}
	return nil
}

// validateCreate runs the validating chain on a new object ready to be
// stored.
func (s *Store) validateCreate(ctx context.Context, obj runtime.Object, dryRun bool) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	m := metaOf(obj)
	return adm.Validate(ctx, s.attributes(ctx, OpCreate, obj, nil, m.GetNamespace(), m.GetName(), "", dryRun))
}

// AdmissionView is what dynamic admission sees of an update made
// through a subresource that shows another kind: /scale shows an
// autoscaling/v1 Scale, as upstream's scale storage admits it.
type AdmissionView struct {
	Subresource string
	Kind        schema.GroupVersionKind
	// To returns the view of an object; From writes a view a mutating
	// step changed back into the object.
	To   func(obj runtime.Object) runtime.Object
	From func(view, obj runtime.Object)
}

// admitUpdate runs the mutating chain on the new object of an update.
func (s *Store) admitUpdate(ctx context.Context, obj, old runtime.Object, opts UpdateOptions) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	m := metaOf(obj)
	if v := opts.AdmissionView; v != nil {
		view := v.To(obj)
		a := s.attributes(ctx, OpUpdate, view, v.To(old), m.GetNamespace(), m.GetName(), v.Subresource, opts.DryRun)
		a.Kind = v.Kind
		if err := adm.Admit(ctx, a); err != nil {
			return err
		}
		if a.Mutated {
			v.From(view, obj)
		}
		return nil
	}
	a := s.attributes(ctx, OpUpdate, obj, old, m.GetNamespace(), m.GetName(), string(opts.Subresource), opts.DryRun)
	if err := adm.Admit(ctx, a); err != nil {
		return err
	}
	if a.Mutated && s.r.Default != nil {
		s.r.Default(obj)
	}
	return nil
}

// validateUpdate runs the validating chain on the new object of an
// update ready to be stored.
func (s *Store) validateUpdate(ctx context.Context, obj, old runtime.Object, opts UpdateOptions) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	m := metaOf(obj)
	if v := opts.AdmissionView; v != nil {
		a := s.attributes(ctx, OpUpdate, v.To(obj), v.To(old), m.GetNamespace(), m.GetName(), v.Subresource, opts.DryRun)
		a.Kind = v.Kind
		return adm.Validate(ctx, a)
	}
	return adm.Validate(ctx, s.attributes(ctx, OpUpdate, obj, old,
		m.GetNamespace(), m.GetName(), string(opts.Subresource), opts.DryRun))
}

// admitDelete runs both chains on the deletion of a stored object.
func (s *Store) admitDelete(ctx context.Context, existing runtime.Object, opts *DeleteOptions) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	m := metaOf(existing)
	a := s.attributes(ctx, OpDelete, nil, existing, m.GetNamespace(), m.GetName(), "", opts.DryRun)
	o := opts.DeleteOptions
	o.TypeMeta = metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "meta.k8s.io/v1"}
	if opts.DryRun {
		o.DryRun = []string{metav1.DryRunAll}
	}
	a.Options = &o
	if err := adm.Admit(ctx, a); err != nil {
		return err
	}
	return adm.Validate(ctx, a)
}

// AdmitConnect admits a connection to a subresource (pods/exec, log,
// portforward, proxy): operation CONNECT, the connection's options as the
// object, as upstream's connect handler.
func (s *Store) AdmitConnect(ctx context.Context, namespace, name, subresource string, opts runtime.Object) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	a := s.attributes(ctx, OpConnect, opts, nil, namespace, name, subresource, false)
	if gvk := opts.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
		a.Kind = gvk // upstream's kind of a connection: its options' (PodExecOptions)
	}
	if err := adm.Admit(ctx, a); err != nil {
		return err
	}
	return adm.Validate(ctx, a)
}

// AdmitAction admits an action's request object (pods/eviction,
// pods/binding): a CREATE on the subresource, as upstream's create
// handler. req may be changed by mutating steps.
func (s *Store) AdmitAction(ctx context.Context, namespace, name, subresource string, kind schema.GroupVersionKind, req runtime.Object, dryRun bool) error {
	adm := s.admissionChain()
	if adm == nil {
		return nil
	}
	a := s.attributes(ctx, OpCreate, req, nil, namespace, name, subresource, dryRun)
	a.Kind = kind
	if err := adm.Admit(ctx, a); err != nil {
		return err
	}
	return adm.Validate(ctx, a)
}

// Plugins is an ordered admission chain, as upstream's chain of admission
// plugins: Admit runs the Admit of each plugin in order, then the store
// validates the object, then Validate runs the Validate of each plugin in
// order. A nil plugin is skipped.
type Plugins []Admission

// Admit runs the mutating half of every plugin, stopping at the first error.
func (p Plugins) Admit(ctx context.Context, a *Attributes) error {
	for _, x := range p {
		if x == nil {
			continue
		}
		if err := x.Admit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// Validate runs the validating half of every plugin, stopping at the
// first error.
func (p Plugins) Validate(ctx context.Context, a *Attributes) error {
	for _, x := range p {
		if x == nil {
			continue
		}
		if err := x.Validate(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// Mutating is a plugin with a mutating half only.
type Mutating func(ctx context.Context, a *Attributes) error

// Admit calls the function.
func (f Mutating) Admit(ctx context.Context, a *Attributes) error { return f(ctx, a) }

// Validate does nothing.
func (Mutating) Validate(context.Context, *Attributes) error { return nil }

// Validating is a plugin with a validating half only.
type Validating func(ctx context.Context, a *Attributes) error

// Admit does nothing.
func (Validating) Admit(context.Context, *Attributes) error { return nil }

// Validate calls the function.
func (f Validating) Validate(ctx context.Context, a *Attributes) error { return f(ctx, a) }
