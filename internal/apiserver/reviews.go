package apiserver

import (
	"context"
	"fmt"
	"net/http"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry"
)

// Review resources: create-only resources of groups with no storage
// (authorization.k8s.io's access reviews; authentication.k8s.io's token
// and self reviews join reviewResources the same way). Each answers a
// create with the object it was sent, its status filled in, and 201.

// reviewResource is one review resource of a group-version.
type reviewResource struct {
	gv       schema.GroupVersion
	resource metav1.APIResource
	// newObj returns an empty object of the resource's kind.
	newObj func() runtime.Object
	// review fills in the status of obj for the request's user (in ctx)
	// in namespace (namespaced resources) and returns the answer.
	review func(s *Server, ctx context.Context, namespace string, obj runtime.Object) (runtime.Object, error)
}

// reviewResources lists every review resource served.
func reviewResources() []reviewResource {
	return append(authorizationReviews(), authenticationReviews()...)
}

func createOnly(name, kind string, namespaced bool) metav1.APIResource {
	return metav1.APIResource{Name: name, SingularName: name[:len(name)-1], Namespaced: namespaced, Kind: kind, Verbs: metav1.Verbs{"create"}}
}

// addReviews adds the review resources to the discovery documents.
func addReviews(d *discovery, agg map[string]*apidiscoveryv2.APIGroupDiscovery, groupOrder *[]string) {
	for _, rr := range reviewResources() {
		list := d.resources[rr.gv]
		if list == nil {
			list = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: rr.gv.String()}
			d.resources[rr.gv] = list
			d.groups = appendGroupVersion(d.groups, rr.gv)
		}
		list.APIResources = append(list.APIResources, rr.resource)
		g := agg[rr.gv.Group]
		if g == nil {
			g = &apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: rr.gv.Group}}
			agg[rr.gv.Group] = g
			*groupOrder = append(*groupOrder, rr.gv.Group)
		}
		found := false
		for i := range g.Versions {
			if g.Versions[i].Version == rr.gv.Version {
				g.Versions[i].Resources = append(g.Versions[i].Resources, aggregatedVirtual(rr.resource))
				found = true
			}
		}
		if !found {
			g.Versions = append(g.Versions, apidiscoveryv2.APIVersionDiscovery{Version: rr.gv.Version,
				Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent, Resources: []apidiscoveryv2.APIResourceDiscovery{aggregatedVirtual(rr.resource)}})
		}
	}
}

// reviewOf returns the review resource of a request.
func reviewOf(info requestInfo) (reviewResource, bool) {
	if !info.resourceRequest || info.watchPath {
		return reviewResource{}, false
	}
	switch info.group { // the groups of reviewResources: any other request builds no list
	case authorizationv1.GroupName, authenticationv1.GroupName:
	default:
		return reviewResource{}, false
	}
	for _, rr := range reviewResources() {
		if rr.gv.Group == info.group && rr.gv.Version == info.version && rr.resource.Name == info.resource {
			return rr, true
		}
	}
	return reviewResource{}, false
}

// serveReview answers a create of a review resource.
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, info requestInfo, rr reviewResource) error {
	if info.name != "" || info.subresource != "" || (info.namespace != "") != rr.resource.Namespaced {
		return notFound(r)
	}
	if err := selectRoute(r, []route{{method: http.MethodPost, produces: producesObject}}); err != nil {
		return err
	}
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := createOptions(r)
	if err != nil {
		return err
	}
	gvk := rr.gv.WithKind(rr.resource.Kind)
	obj, err := s.decodeBody(w, r, gvk, rr.newObj(), fieldValidation(opts.FieldValidation))
	if err != nil {
		return err
	}
	if _, ok := obj.(interface{ GetNamespace() string }); ok {
		// Upstream's EnsureObjectNamespaceMatchesRequestNamespace.
		m := metaAccessor(obj)
		switch ns := m.GetNamespace(); {
		case ns == info.namespace:
		case ns == "", info.namespace == "":
			m.SetNamespace(info.namespace)
		default:
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	}
	res, err := rr.review(s, r.Context(), info.namespace, obj)
	if err != nil {
		return err
	}
	writeObject(w, out, http.StatusCreated, rr.gv, res)
	return nil
}

// authorization.k8s.io/v1.

func authorizationReviews() []reviewResource {
	gv := authorizationv1.SchemeGroupVersion
	return []reviewResource{
		{gv, createOnly("localsubjectaccessreviews", "LocalSubjectAccessReview", true),
			func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} }, (*Server).localSubjectAccessReview},
		{gv, createOnly("selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
			func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }, (*Server).selfSubjectAccessReview},
		{gv, createOnly("selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
			func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }, (*Server).selfSubjectRulesReview},
		{gv, createOnly("subjectaccessreviews", "SubjectAccessReview", false),
			func() runtime.Object { return &authorizationv1.SubjectAccessReview{} }, (*Server).subjectAccessReview},
	}
}

// reviewAuthorizer is the server's authorizer; without one (no
// authorization), everything is allowed.
func (s *Server) reviewAuthorizer() authz.Authorizer {
	if s.cfg.Authorizer == nil {
		return authz.AlwaysAllow{}
	}
	return s.cfg.Authorizer
}

func requestUser(ctx context.Context) (*authz.User, error) {
	u, ok := registry.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	return u, nil
}

// accessStatus asks the authorizer, as upstream's access review REST.
func (s *Server) accessStatus(ctx context.Context, a *authz.Attributes) authorizationv1.SubjectAccessReviewStatus {
	d, reason, err := s.reviewAuthorizer().Authorize(ctx, a)
	st := authorizationv1.SubjectAccessReviewStatus{Allowed: d == authz.DecisionAllow, Denied: d == authz.DecisionDeny, Reason: reason}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}

// reviewAttributes are the attributes an access review asks about
// (upstream's ResourceAttributesFrom and NonResourceAttributesFrom).
func reviewAttributes(u *authz.User, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) *authz.Attributes {
	if ra == nil {
		return &authz.Attributes{User: u, Path: nra.Path, Verb: nra.Verb}
	}
	version := ra.Version
	if version == "" {
		version = "*"
	}
	return &authz.Attributes{User: u, Verb: ra.Verb, Namespace: ra.Namespace, APIGroup: ra.Group, APIVersion: version,
		Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name, ResourceRequest: true}
}

func (s *Server) subjectAccessReview(ctx context.Context, _ string, obj runtime.Object) (runtime.Object, error) {
	sar := obj.(*authorizationv1.SubjectAccessReview)
	if errs := validateAccessReviewSpec(&sar.Spec, true); len(errs) > 0 || !emptyMeta(sar.ObjectMeta) {
		if !emptyMeta(sar.ObjectMeta) {
			errs = append(errs, metaMustBeEmpty(sar.ObjectMeta, "must be empty"))
		}
		return nil, reviewInvalid("SubjectAccessReview", errs)
	}
	u := &authz.User{Name: sar.Spec.User, UID: sar.Spec.UID, Groups: sar.Spec.Groups, Extra: extraOf(sar.Spec.Extra)}
	sar.Status = s.accessStatus(ctx, reviewAttributes(u, sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes))
	return sar, nil
}

func (s *Server) selfSubjectAccessReview(ctx context.Context, _ string, obj runtime.Object) (runtime.Object, error) {
	ssar := obj.(*authorizationv1.SelfSubjectAccessReview)
	spec := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: ssar.Spec.ResourceAttributes, NonResourceAttributes: ssar.Spec.NonResourceAttributes}
	if errs := validateAccessReviewSpec(&spec, false); len(errs) > 0 || !emptyMeta(ssar.ObjectMeta) {
		if !emptyMeta(ssar.ObjectMeta) {
			errs = append(errs, metaMustBeEmpty(ssar.ObjectMeta, "must be empty"))
		}
		return nil, reviewInvalid("SelfSubjectAccessReview", errs)
	}
	u, err := requestUser(ctx)
	if err != nil {
		return nil, err
	}
	ssar.Status = s.accessStatus(ctx, reviewAttributes(u, ssar.Spec.ResourceAttributes, ssar.Spec.NonResourceAttributes))
	return ssar, nil
}

func (s *Server) localSubjectAccessReview(ctx context.Context, namespace string, obj runtime.Object) (runtime.Object, error) {
	lsar := obj.(*authorizationv1.LocalSubjectAccessReview)
	errs := validateAccessReviewSpec(&lsar.Spec, true)
	m := lsar.ObjectMeta
	m.Namespace = ""
	if !emptyMeta(m) {
		errs = append(errs, metaMustBeEmpty(lsar.ObjectMeta, "must be empty except for namespace"))
	}
	if ra := lsar.Spec.ResourceAttributes; ra != nil && ra.Namespace != lsar.Namespace {
		errs = append(errs, invalid("spec.resourceAttributes.namespace", ra.Namespace, "must match metadata.namespace"))
	}
	if nra := lsar.Spec.NonResourceAttributes; nra != nil {
		errs = append(errs, invalid("spec.nonResourceAttributes", internalNonResource(nra), "disallowed on this kind of request"))
	}
	if len(errs) > 0 {
		return nil, reviewInvalid("LocalSubjectAccessReview", errs)
	}
	if namespace == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is required on this type: %v", namespace))
	}
	if namespace != lsar.Namespace {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", namespace))
	}
	u := &authz.User{Name: lsar.Spec.User, UID: lsar.Spec.UID, Groups: lsar.Spec.Groups, Extra: extraOf(lsar.Spec.Extra)}
	lsar.Status = s.accessStatus(ctx, reviewAttributes(u, lsar.Spec.ResourceAttributes, lsar.Spec.NonResourceAttributes))
	return lsar, nil
}

func (s *Server) selfSubjectRulesReview(ctx context.Context, _ string, obj runtime.Object) (runtime.Object, error) {
	ssrr := obj.(*authorizationv1.SelfSubjectRulesReview)
	u, err := requestUser(ctx)
	if err != nil {
		return nil, err
	}
	if ssrr.Spec.Namespace == "" {
		return nil, apierrors.NewBadRequest("no namespace on request")
	}
	var resolver authz.RulesResolver = authz.AlwaysAllow{}
	if s.cfg.Authorizer != nil {
		resolver = s.cfg.RulesResolver
	}
	out := &authorizationv1.SelfSubjectRulesReview{}
	if resolver == nil {
		out.Status = authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{},
			NonResourceRules: []authorizationv1.NonResourceRule{}, Incomplete: true}
		return out, nil
	}
	// Upstream answers with the status only: no metadata, no spec.
	out.Status = authz.RulesReviewStatus(ctx, resolver, u, ssrr.Spec.Namespace)
	return out, nil
}

func extraOf(in map[string]authorizationv1.ExtraValue) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// emptyMeta tells whether m is empty but for managedFields.
func emptyMeta(m metav1.ObjectMeta) bool {
	m.ManagedFields = nil
	return equality.Semantic.DeepEqual(metav1.ObjectMeta{}, m)
}
