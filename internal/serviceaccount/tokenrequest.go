package serviceaccount

import (
	"context"
	"fmt"
	"slices"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's limits and defaults of a TokenRequest's expirationSeconds.
const (
	DefaultExpirationSeconds = 60 * 60
	MinExpirationSeconds     = 10 * 60
	MaxExpirationSeconds     = 1 << 32
	// WarnOnlyExpirationSeconds is the lifetime kubelets ask for
	// projected tokens; with ExtendExpiration such a pod-bound token
	// lives ExtendedExpirationSeconds and warns after it.
	WarnOnlyExpirationSeconds = 60*60 + 7
	ExtendedExpirationSeconds = 24 * 365 * 60 * 60
)

var tokenRequestKind = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// TokenRequestRule is serviceaccounts/token: a create of a TokenRequest
// answered with a signed token (upstream's TokenREST).
func (i *Issuer) TokenRequestRule() registry.SubresourceRule {
	return registry.SubresourceRule{
		Name: "token", Kind: tokenRequestKind, Verbs: []string{"create"},
		New:    func() runtime.Object { return &authenticationv1.TokenRequest{} },
		Create: i.createToken,
	}
}

func invalid(name string, errs field.ErrorList) error {
	return apierrors.NewInvalid(tokenRequestKind.GroupKind(), name, errs)
}

// createToken is upstream's TokenREST.Create.
func (i *Issuer) createToken(ctx context.Context, st *registry.Store, namespace, name string, obj runtime.Object, _ registry.CreateOptions) (runtime.Object, error) {
	req := obj.(*authenticationv1.TokenRequest)
	if req.Name != "" && req.Name != name {
		return nil, invalid(name, field.ErrorList{field.Invalid(field.NewPath("metadata").Child("name"), req.Name, "must match the service account name if specified")})
	}
	if req.Namespace != "" && req.Namespace != namespace {
		return nil, invalid(name, field.ErrorList{field.Invalid(field.NewPath("metadata").Child("namespace"), req.Namespace, "must match the service account namespace if specified")})
	}
	saObj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = i.APIAudiences()
	}
	if req.Spec.ExpirationSeconds == nil {
		req.Spec.ExpirationSeconds = new(int64(DefaultExpirationSeconds))
	}
	if req.Name == "" {
		req.Name = sa.Name
	}
	if req.Namespace == "" {
		req.Namespace = sa.Namespace
	}
	now := i.cfg.Now()
	req.CreationTimestamp = metav1.NewTime(now)
	req.Status = authenticationv1.TokenRequestStatus{}
	if errs := validateTokenRequest(req); len(errs) != 0 {
		return nil, invalid("", errs)
	}
	t := Token{Namespace: sa.Namespace, Name: sa.Name, UID: string(sa.UID), Audiences: req.Spec.Audiences, Now: now}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		if err := i.bind(ctx, st.Registry(), namespace, name, ref, &t); err != nil {
			return nil, err
		}
	}
	exp := *req.Spec.ExpirationSeconds
	if max := int64(i.cfg.MaxExpiration / time.Second); max > 0 && exp > max {
		registry.AddWarning(ctx, fmt.Sprintf("requested expiration of %d seconds shortened to %d seconds", exp, max))
		exp = max
		*req.Spec.ExpirationSeconds = max
	}
	t.Expiration = time.Duration(exp) * time.Second
	if i.cfg.ExtendExpiration && t.Pod != nil && exp == WarnOnlyExpirationSeconds && i.isAPIAudiences(req.Spec.Audiences) {
		t.WarnAfter = t.Expiration
		t.Expiration = ExtendedExpirationSeconds * time.Second
	}
	tok, _, err := i.Issue(t)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out := req.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{Token: tok,
		ExpirationTimestamp: metav1.NewTime(now.Add(time.Duration(exp) * time.Second))}
	return out, nil
}

// isAPIAudiences reports audiences all of which are the API's (upstream's
// isKubeAudiences).
func (i *Issuer) isAPIAudiences(auds []string) bool {
	for _, a := range auds {
		if !slices.Contains(i.cfg.APIAudiences, a) {
			return false
		}
	}
	return true
}

// validateTokenRequest is upstream's ValidateTokenRequest.
func validateTokenRequest(tr *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "expirationSeconds")
	exp := *tr.Spec.ExpirationSeconds
	if exp < MinExpirationSeconds {
		errs = append(errs, field.Invalid(p, exp, "may not specify a duration less than 10 minutes"))
	}
	if exp > MaxExpirationSeconds {
		errs = append(errs, field.TooLong(p, exp, MaxExpirationSeconds).WithOrigin("maximum"))
		errs[len(errs)-1].Detail = "may not specify a duration larger than 2^32 seconds"
	}
	return errs
}

// bind looks up the bound object of a request and puts it in t (a pod
// bound token names its node too, as upstream 1.37).
func (i *Issuer) bind(ctx context.Context, reg *registry.Registry, namespace, saName string, ref *authenticationv1.BoundObjectReference, t *Token) error {
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	get := func(resource, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
		st, ok := reg.Lookup(corev1.SchemeGroupVersion.WithResource(resource))
		if !ok {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
		}
		return st.Get(ctx, ns, name, opts)
	}
	var uid types.UID
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		obj, err := get("pods", namespace, ref.Name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod := obj.(*corev1.Pod)
		if saName != pod.Spec.ServiceAccountName {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", saName))
		}
		uid = pod.UID
		t.Pod = &Ref{Name: pod.Name, UID: string(pod.UID)}
		if nodeName := pod.Spec.NodeName; nodeName != "" {
			node, err := get("nodes", "", nodeName, &metav1.GetOptions{ResourceVersion: "0"})
			if err != nil {
				node, err = get("nodes", "", nodeName, &metav1.GetOptions{})
			}
			switch {
			case apierrors.IsNotFound(err):
				// The node's name alone, as upstream.
				t.Node = &Ref{Name: nodeName}
			case err != nil:
				return apierrors.NewInternalError(err)
			default:
				m, _ := meta.Accessor(node)
				t.Node = &Ref{Name: nodeName, UID: string(m.GetUID())}
			}
		}
	case gvk.Group == "" && gvk.Kind == "Node":
		obj, err := get("nodes", "", ref.Name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		m, _ := meta.Accessor(obj)
		uid = m.GetUID()
		t.Node = &Ref{Name: ref.Name, UID: string(uid)}
	case gvk.Group == "" && gvk.Kind == "Secret":
		obj, err := get("secrets", namespace, ref.Name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		m, _ := meta.Accessor(obj)
		uid = m.GetUID()
		t.Secret = &Ref{Name: ref.Name, UID: string(uid)}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && uid != ref.UID {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}
