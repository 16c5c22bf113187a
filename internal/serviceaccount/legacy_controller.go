package serviceaccount

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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
)

// LegacyTokens is upstream's tokens controller (kube-controller-manager's
// serviceaccount-token): a kubernetes.io/service-account-token secret
// naming an existing account gets its token, ca.crt and namespace; one
// naming a missing account (or another uid) is deleted, and so are an
// account's token secrets when it is deleted.
type LegacyTokens struct {
	reg    *registry.Registry
	issuer *Issuer
	rootCA []byte
	log    *slog.Logger
	retry  time.Duration

	mu    sync.Mutex // guards dirty
	dirty map[types.NamespacedName]bool
	kick  chan struct{}
}

// NewLegacyTokens returns the controller; rootCA (PEM) is written as the
// secrets' ca.crt.
func NewLegacyTokens(reg *registry.Registry, issuer *Issuer, rootCA []byte, log *slog.Logger) *LegacyTokens {
	if log == nil {
		log = slog.Default()
	}
	return &LegacyTokens{reg: reg, issuer: issuer, rootCA: rootCA, log: log, retry: time.Second,
		dirty: map[types.NamespacedName]bool{}, kick: make(chan struct{}, 1)}
}

func (c *LegacyTokens) store(resource string) *registry.Store {
	st, _ := c.reg.Lookup(corev1.SchemeGroupVersion.WithResource(resource))
	return st
}

// Run watches token secrets and service accounts until ctx ends.
func (c *LegacyTokens) Run(ctx context.Context) error {
	secrets, sas := c.store("secrets"), c.store("serviceaccounts")
	if secrets == nil || sas == nil {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	typed := fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken))
	wg.Go(func() { c.watch(ctx, secrets, typed, false) })
	wg.Go(func() { c.watch(ctx, sas, fields.Everything(), true) })
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
		c.dirty = map[types.NamespacedName]bool{}
		c.mu.Unlock()
		retry := false
		for n := range names {
			if err := c.sync(ctx, n); err != nil && ctx.Err() == nil {
				c.log.Warn("service account token secret", "secret", n.String(), "err", err)
				c.mark(n)
				retry = true
			}
		}
		if retry {
			timer.Reset(c.retry)
		}
	}
}

func (c *LegacyTokens) mark(n types.NamespacedName) {
	c.mu.Lock()
	c.dirty[n] = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// watch marks each token secret (or, for a deleted account, each of its
// namespace's token secrets), re-watching after errors.
func (c *LegacyTokens) watch(ctx context.Context, st *registry.Store, sel fields.Selector, accounts bool) {
	registry.Follow(ctx, c.retry, st.Watching("", &metainternalversion.ListOptions{FieldSelector: sel}), func(t watch.EventType, obj runtime.Object) {
		m, err := meta.Accessor(obj)
		if err != nil { // not an object: the end of a watch
			return
		}
		switch {
		case !accounts && t != watch.Deleted:
			c.mark(types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()})
		case accounts && t == watch.Deleted:
			c.markTokens(ctx, m.GetNamespace())
		}
	})
}

// markTokens marks the token secrets of a namespace.
func (c *LegacyTokens) markTokens(ctx context.Context, ns string) {
	list, err := c.store("secrets").List(ctx, ns, &metainternalversion.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken))})
	if err != nil {
		return
	}
	for _, s := range list.(*corev1.SecretList).Items {
		c.mark(types.NamespacedName{Namespace: ns, Name: s.Name})
	}
}

// sync deletes a secret whose account is gone, or fills in its token.
func (c *LegacyTokens) sync(ctx context.Context, n types.NamespacedName) error {
	secrets := c.store("secrets")
	obj, err := secrets.Get(ctx, n.Namespace, n.Name, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	s := obj.(*corev1.Secret)
	if s.Type != corev1.SecretTypeServiceAccountToken || s.DeletionTimestamp != nil {
		return nil
	}
	saName, saUID := s.Annotations[corev1.ServiceAccountNameKey], s.Annotations[corev1.ServiceAccountUIDKey]
	saObj, err := c.store("serviceaccounts").Get(ctx, n.Namespace, saName, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && saUID != "" && saUID != string(saObj.(*corev1.ServiceAccount).UID)) {
		uid := s.UID
		_, _, err := secrets.Delete(ctx, n.Namespace, n.Name, registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	sa := saObj.(*corev1.ServiceAccount)
	if len(s.Data[corev1.ServiceAccountTokenKey]) > 0 && len(s.Data[corev1.ServiceAccountNamespaceKey]) > 0 &&
		(len(c.rootCA) == 0 || len(s.Data[corev1.ServiceAccountRootCAKey]) > 0) {
		return nil
	}
	token, err := c.issuer.IssueLegacy(sa, s.Name)
	if err != nil {
		return err
	}
	_, _, err = secrets.Update(ctx, n.Namespace, n.Name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(secrets.Resource().GroupResource(), n.Name)
		}
		s := existing.(*corev1.Secret).DeepCopy()
		data := maps.Clone(s.Data)
		if data == nil {
			data = map[string][]byte{}
		}
		if len(data[corev1.ServiceAccountTokenKey]) == 0 {
			data[corev1.ServiceAccountTokenKey] = []byte(token)
		}
		if len(data[corev1.ServiceAccountNamespaceKey]) == 0 {
			data[corev1.ServiceAccountNamespaceKey] = []byte(n.Namespace)
		}
		if len(c.rootCA) > 0 && len(data[corev1.ServiceAccountRootCAKey]) == 0 {
			data[corev1.ServiceAccountRootCAKey] = c.rootCA
		}
		s.Data = data
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[corev1.ServiceAccountNameKey] = sa.Name
		s.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
		return s, nil
	}, registry.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
