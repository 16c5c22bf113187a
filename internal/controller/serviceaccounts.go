package controller

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's names of what ServiceAccounts keeps in every namespace.
const (
	DefaultServiceAccount = "default"
	RootCAConfigMap       = "kube-root-ca.crt"
	rootCAKey             = "ca.crt"
	descriptionAnnotation = "kubernetes.io/description"
	rootCADescription     = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// ServiceAccounts keeps the "default" service account in every active
// namespace (upstream's serviceaccount controller) and, when it has a CA,
// the kube-root-ca.crt ConfigMap with it (upstream's root-ca-cert
// publisher): both are created again when deleted, the ConfigMap put
// back when changed.
type ServiceAccounts struct {
	reg    *registry.Registry
	rootCA []byte
	log    *slog.Logger
	retry  time.Duration

	mu    sync.Mutex // guards dirty
	dirty map[string]bool
	kick  chan struct{} // capacity 1
}

// NewServiceAccounts returns the controller over reg; rootCA (PEM), when
// not empty, is published in every namespace.
func NewServiceAccounts(reg *registry.Registry, rootCA []byte, log *slog.Logger) *ServiceAccounts {
	if log == nil {
		log = slog.Default()
	}
	return &ServiceAccounts{reg: reg, rootCA: rootCA, log: log, retry: time.Second, dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
}

func (c *ServiceAccounts) store(resource string) *registry.Store {
	st, _ := c.reg.Lookup(corev1.SchemeGroupVersion.WithResource(resource))
	return st
}

// Run watches namespaces, default service accounts and root CA config
// maps, and syncs the namespaces they name, until ctx ends.
func (c *ServiceAccounts) Run(ctx context.Context) error {
	nss, sas, cms := c.reg.Namespaces(), c.store("serviceaccounts"), c.store("configmaps")
	if nss == nil || sas == nil {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.watch(ctx, nss, "", true) })
	wg.Go(func() { c.watch(ctx, sas, DefaultServiceAccount, false) })
	if cms != nil && len(c.rootCA) > 0 {
		wg.Go(func() { c.watch(ctx, cms, RootCAConfigMap, false) })
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		case <-timer.C:
		}
		c.mu.Lock()
		names := c.dirty
		c.dirty = map[string]bool{}
		c.mu.Unlock()
		retry := false
		for ns := range names {
			if err := c.sync(ctx, ns); err != nil && ctx.Err() == nil {
				c.log.Warn("service accounts", "namespace", ns, "err", err)
				c.mark(ns)
				retry = true
			}
		}
		if retry {
			timer.Reset(c.retry)
		}
	}
}

func (c *ServiceAccounts) mark(ns string) {
	c.mu.Lock()
	c.dirty[ns] = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// watch marks the namespace of every event of st (objects named name
// when not ""), or the namespaces themselves, re-watching after errors.
func (c *ServiceAccounts) watch(ctx context.Context, st *registry.Store, name string, namespaces bool) {
	opts := &metainternalversion.ListOptions{}
	if name != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", name)
	}
	registry.Follow(ctx, c.retry, st.Watching("", opts), func(t watch.EventType, obj runtime.Object) {
		m, err := meta.Accessor(obj)
		if err != nil { // not an object: the end of a watch
			return
		}
		switch {
		case namespaces && t != watch.Deleted && m.GetDeletionTimestamp() == nil:
			c.mark(m.GetName())
		case !namespaces && (t == watch.Deleted || t == watch.Modified):
			c.mark(m.GetNamespace())
		}
	})
}

// sync creates what an active namespace lacks.
func (c *ServiceAccounts) sync(ctx context.Context, ns string) error {
	obj, err := c.reg.Namespaces().Get(ctx, "", ns, nil)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if metaOf(obj).GetDeletionTimestamp() != nil {
		return nil
	}
	sas := c.store("serviceaccounts")
	if _, err := sas.Get(ctx, ns, DefaultServiceAccount, &metav1.GetOptions{}); apierrors.IsNotFound(err) {
		_, err = sas.Create(ctx, ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccount}}, registry.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) && !terminating(err) {
			return err
		}
	} else if err != nil {
		return err
	}
	if len(c.rootCA) == 0 {
		return nil
	}
	return c.publishRootCA(ctx, ns)
}

// publishRootCA is upstream's root-ca-cert publisher's sync.
func (c *ServiceAccounts) publishRootCA(ctx context.Context, ns string) error {
	cms := c.store("configmaps")
	if cms == nil {
		return nil
	}
	want := map[string]string{rootCAKey: string(c.rootCA)}
	obj, err := cms.Get(ctx, ns, RootCAConfigMap, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RootCAConfigMap,
			Annotations: map[string]string{descriptionAnnotation: rootCADescription}}, Data: want}, registry.CreateOptions{})
		if apierrors.IsAlreadyExists(err) || terminating(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	cm := obj.(*corev1.ConfigMap)
	if maps.Equal(cm.Data, want) && cm.Annotations[descriptionAnnotation] != "" {
		return nil
	}
	_, _, err = cms.Update(ctx, ns, RootCAConfigMap, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(cms.Resource().GroupResource(), RootCAConfigMap)
		}
		cm := existing.(*corev1.ConfigMap).DeepCopy()
		cm.Data = want
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[descriptionAnnotation] = rootCADescription
		return cm, nil
	}, registry.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		c.mark(ns)
		return nil
	}
	return err
}

// terminating reports the 403 of a create in a terminating namespace;
// another 403 (a quota whose status is not known yet) is tried again.
func terminating(err error) bool {
	return apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)
}
