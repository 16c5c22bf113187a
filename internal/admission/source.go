package admission

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// The configuration of dynamic admission is read from the registry as
// upstream's plugins read it from informers: each of the four resources
// is listed, then watched; every change rebuilds (and compiles) an
// immutable snapshot that requests read without a lock.

const group = "admissionregistration.k8s.io"

var (
	mutatingWebhooksGVR   = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "mutatingwebhookconfigurations"}
	validatingWebhooksGVR = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "validatingwebhookconfigurations"}
	policiesGVR           = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "validatingadmissionpolicies"}
	bindingsGVR           = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "validatingadmissionpolicybindings"}
	mpoliciesGVR          = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "mutatingadmissionpolicies"}
	mbindingsGVR          = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "mutatingadmissionpolicybindings"}
	sources               = []schema.GroupVersionResource{mutatingWebhooksGVR, validatingWebhooksGVR, policiesGVR, bindingsGVR, mpoliciesGVR, mbindingsGVR}
)

// mirror holds the objects of one resource by name.
type mirror map[string]runtime.Object

// run keeps the objects of gvr in c's state until ctx is done: a list,
// then a watch from its revision; a closed or failed watch lists again.
func (c *Chain) mirror(ctx context.Context, gvr schema.GroupVersionResource, synced func()) {
	first := true
	for ctx.Err() == nil {
		err := c.listAndWatch(ctx, gvr, func() {
			if first {
				first = false
				synced()
			}
		})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.log("admission: watching %s: %v", gvr.Resource, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (c *Chain) listAndWatch(ctx context.Context, gvr schema.GroupVersionResource, listed func()) error {
	st, ok := c.reg.Lookup(gvr)
	if !ok {
		listed() // not served: nothing to admit with
		<-ctx.Done()
		return nil
	}
	list, err := st.List(ctx, "", &metainternalversion.ListOptions{})
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	m := mirror{}
	for _, it := range items {
		it = cacheable.Unwrap(it)
		m[metaName(it)] = it
	}
	c.replace(gvr, m)
	listed()
	rv, err := meta.NewAccessor().ResourceVersion(list)
	if err != nil {
		return err
	}
	w, err := st.Watch(ctx, "", &metainternalversion.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return errors.New("watch closed")
			}
			obj := cacheable.Unwrap(ev.Object)
			switch ev.Type {
			case watch.Added, watch.Modified:
				c.change(gvr, metaName(obj), obj)
			case watch.Deleted:
				c.change(gvr, metaName(obj), nil)
			case watch.Error:
				return fmt.Errorf("watch: %w", apierrors.FromObject(ev.Object))
			}
		}
	}
}

func metaName(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetName()
}

// state is what the mirrors hold, under Chain.mu.
type state struct {
	mu      sync.Mutex
	mirrors map[schema.GroupVersionResource]mirror
}

func (c *Chain) replace(gvr schema.GroupVersionResource, m mirror) {
	c.state.mu.Lock()
	defer c.state.mu.Unlock()
	c.state.mirrors[gvr] = m
	c.rebuild()
}

func (c *Chain) change(gvr schema.GroupVersionResource, name string, obj runtime.Object) {
	c.state.mu.Lock()
	defer c.state.mu.Unlock()
	old := c.state.mirrors[gvr]
	m := make(mirror, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if obj == nil {
		delete(m, name)
	} else {
		m[name] = obj
	}
	c.state.mirrors[gvr] = m
	c.rebuild()
}

// snapshot is the compiled configuration one request reads.
type snapshot struct {
	mutating   []*hook // in upstream's order: configurations by name, then their webhooks
	validating []*hook
	policies   []*policy // by name, each with its bindings
	mpolicies  []*mpolicy
}

func (s *snapshot) empty() bool {
	return s == nil || len(s.mutating) == 0 && len(s.validating) == 0 && len(s.policies) == 0 && len(s.mpolicies) == 0
}

// rebuild compiles the mirrors into a new snapshot, under state.mu.
func (c *Chain) rebuild() {
	s := &snapshot{}
	for _, o := range sorted(c.state.mirrors[mutatingWebhooksGVR]) {
		cfg := o.(*admissionv1.MutatingWebhookConfiguration)
		for i := range cfg.Webhooks {
			s.mutating = append(s.mutating, c.newMutatingHook(cfg, i))
		}
	}
	for _, o := range sorted(c.state.mirrors[validatingWebhooksGVR]) {
		cfg := o.(*admissionv1.ValidatingWebhookConfiguration)
		for i := range cfg.Webhooks {
			s.validating = append(s.validating, c.newValidatingHook(cfg, i))
		}
	}
	bindings := map[string][]*admissionv1.ValidatingAdmissionPolicyBinding{}
	for _, o := range sorted(c.state.mirrors[bindingsGVR]) {
		b := o.(*admissionv1.ValidatingAdmissionPolicyBinding)
		bindings[b.Spec.PolicyName] = append(bindings[b.Spec.PolicyName], b)
	}
	for _, o := range sorted(c.state.mirrors[policiesGVR]) {
		p := o.(*admissionv1.ValidatingAdmissionPolicy)
		if bs := bindings[p.Name]; len(bs) > 0 {
			s.policies = append(s.policies, c.compilePolicy(p, bs))
		}
	}
	mbindings := map[string][]*admissionv1.MutatingAdmissionPolicyBinding{}
	for _, o := range sorted(c.state.mirrors[mbindingsGVR]) {
		b := o.(*admissionv1.MutatingAdmissionPolicyBinding)
		mbindings[b.Spec.PolicyName] = append(mbindings[b.Spec.PolicyName], b)
	}
	for _, o := range sorted(c.state.mirrors[mpoliciesGVR]) {
		p := o.(*admissionv1.MutatingAdmissionPolicy)
		if bs := mbindings[p.Name]; len(bs) > 0 {
			s.mpolicies = append(s.mpolicies, c.compileMutatingPolicy(p, bs))
		}
	}
	if old := c.snap.Swap(s); old != nil {
		old.closeIdle() // requests in flight keep their connections
	}
}

// closeIdle closes the idle connections of the snapshot's webhooks.
func (s *snapshot) closeIdle() {
	for _, h := range append(s.mutating[:len(s.mutating):len(s.mutating)], s.validating...) {
		if h.transport != nil {
			h.transport.CloseIdleConnections()
		}
	}
}

func sorted(m mirror) []runtime.Object {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]runtime.Object, len(names))
	for i, n := range names {
		out[i] = m[n]
	}
	return out
}
