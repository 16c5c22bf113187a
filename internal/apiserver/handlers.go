package apiserver

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metainternalvalidation "k8s.io/apimachinery/pkg/apis/meta/internalversion/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// serveResource serves a request on a resource, an object or a
// subresource. It is the one place a verb handler's error is written.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request) {
	if err := s.dispatch(w, r); err != nil {
		writeError(w, r, err)
	}
}

// dispatch runs the handler of a request's verb. A handler returns the
// error to answer with only while nothing of its response is written:
// once it has begun answering it returns nil and logs what failed, as
// the status line is sent and nothing more can be told the client.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) error {
	info := classify(r)
	if isVirtual(info) {
		return s.serveVirtual(w, r, info)
	}
	if rr, ok := reviewOf(info); ok { // reviews.go
		return s.serveReview(w, r, info, rr)
	}
	st, err := s.lookup(r, info)
	if err != nil {
		return err
	}
	registry.AddWarning(r.Context(), st.Resource().Deprecation)
	if st.Resource().Custom {
		if err := withoutProtobuf(r); err != nil {
			return err
		}
	}
	if rule := st.Resource().SubresourceRule(info.subresource); rule != nil && rule.IsConnect() {
		return s.connect(w, r, st, info, rule)
	}
	switch info.verb {
	case "get":
		return s.get(w, r, st, info)
	case "list":
		return s.list(w, r, st, info)
	case "watch":
		return s.watch(w, r, st, info)
	case "create":
		if info.subresource != "" {
			return s.createAction(w, r, st, info)
		}
		return s.create(w, r, st, info)
	case "update":
		return s.update(w, r, st, info)
	case "patch":
		return s.patch(w, r, st, info)
	case "delete":
		return s.delete(w, r, st, info)
	case "deletecollection":
		return s.deleteCollection(w, r, st, info)
	}
	return methodNotAllowed(r)
}

// lookup finds the store of a request and checks that the path fits the
// resource: scope, subresource and verb.
func (s *Server) lookup(r *http.Request, info requestInfo) (*registry.Store, error) {
	if !info.resourceRequest {
		return nil, notFound(r)
	}
	st, ok := s.cfg.Registry.Lookup(info.gv().WithResource(info.resource))
	if !ok {
		return nil, notFound(r)
	}
	res := st.Resource()
	if !res.Namespaced && info.namespace != "" && info.resource != "namespaces" {
		if res.Custom { // upstream's custom resource handler hands it on: the plain 404 page
			return nil, errPageNotFound
		}
		return nil, notFound(r)
	}
	var routes [4]route
	if err := selectRoute(r, routesFor(res, info, routes[:0])); err != nil {
		return nil, err
	}
	return st, nil
}

// decodeParams decodes query parameters into one of the meta/v1 option
// types, as a 400 on failure.
func decodeParams(r *http.Request, into runtime.Object) error {
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(query(r), metav1.SchemeGroupVersion, into); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	return nil
}

func invalidOptions(kind string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r, metaConversions...)
	if err != nil {
		return err
	}
	var opts metav1.GetOptions
	if err := decodeParams(r, &opts); err != nil {
		return err
	}
	if err := parseGetResourceVersion(opts.ResourceVersion); err != nil {
		return err
	}
	obj, err := st.Get(r.Context(), info.namespace, info.name, &opts)
	if err != nil {
		return err
	}
	if out.as == "PartialObjectMetadataList" {
		return conversionNotAcceptable(fmt.Sprintf("you requested PartialObjectMetadataList, but the requested object is not a list (%s)",
			internalType(st.Resource(), false)))
	}
	if info.subresource == "scale" {
		writeObject(w, out, http.StatusOK, scaleGV, toScale(st, obj))
		return nil
	}
	return s.writeConverted(w, r, out, st, obj, http.StatusOK)
}

// writeConverted writes obj, or its Table or PartialObjectMetadata when
// the client asked for one. A failed conversion is returned unwritten.
func (s *Server) writeConverted(w http.ResponseWriter, r *http.Request, out output, st *registry.Store, obj runtime.Object, code int) error {
	if out.as == "" {
		writeObject(w, out, code, st.Resource().GroupVersion(), obj)
		return nil
	}
	conv, err := convertOutput(r, out, st, obj, false)
	if err != nil {
		return err
	}
	writeObject(w, out, code, schema.GroupVersion{Group: metav1.GroupName, Version: out.asVersion}, conv)
	return nil
}

// listOptions decodes and validates the list options of a request on
// the resource of st.
func listOptions(r *http.Request, st *registry.Store) (*metainternalversion.ListOptions, error) {
	opts := &metainternalversion.ListOptions{}
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(query(r), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if errs := metainternalvalidation.ValidateListOptions(opts, true); len(errs) > 0 {
		return nil, invalidOptions("ListOptions", errs)
	}
	if err := checkFieldLabels(st, opts); err != nil {
		return nil, err
	}
	return opts, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r, metaConversions...)
	if err != nil {
		return err
	}
	opts, err := listOptions(r, st)
	if err != nil {
		return err
	}
	if out.as == "" && streamsLists(out) {
		// A watch cache's list: its objects' cached bytes, streamed.
		l, ok, err := st.ListObjects(r.Context(), info.namespace, opts)
		if err != nil {
			return err
		}
		if ok {
			if err := s.writeList(w, out, st.Resource().GroupVersion(), st.Resource().Kind, l); err != nil {
				s.cfg.Logger.Error("writing a list", "resource", st.Resource().GroupResource(), "err", err)
			}
			return nil
		}
	}
	list, err := st.List(r.Context(), info.namespace, opts)
	if err != nil {
		return err
	}
	if out.as == "PartialObjectMetadata" {
		return conversionNotAcceptable(fmt.Sprintf("you requested PartialObjectMetadata, but the requested object is a list (%s)",
			internalType(st.Resource(), true)))
	}
	return s.writeConverted(w, r, out, st, list, http.StatusOK)
}

func dryRun(v []string) bool { return len(v) > 0 }

// createOptions decodes and checks a create's query parameters.
func createOptions(r *http.Request) (*metav1.CreateOptions, error) {
	var opts metav1.CreateOptions
	if err := decodeParams(r, &opts); err != nil {
		return nil, err
	}
	if opts.FieldManager == "" && len(opts.DryRun) == 0 && opts.FieldValidation == "" {
		return &opts, nil // nothing to check (upstream's check builds its field paths first)
	}
	if err := invalidOptions("CreateOptions", metav1validation.ValidateCreateOptions(&opts)); err != nil {
		return nil, err
	}
	return &opts, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := createOptions(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(w, r, st.Resource().GroupVersionKind(), st.New(), fieldValidation(opts.FieldValidation))
	if err != nil {
		return err
	}
	if err := pruneUnknown(r.Context(), st, obj, fieldValidation(opts.FieldValidation)); err != nil {
		return err
	}
	auditDefaulted(r, st, obj)
	obj = trackUpdate(st, "", nil, obj, managerOrUserAgent(opts.FieldManager, r.UserAgent()))
	res, err := st.Create(r.Context(), info.namespace, obj, registry.CreateOptions{DryRun: dryRun(opts.DryRun)})
	if err != nil {
		return err
	}
	writeObject(w, out, http.StatusCreated, st.Resource().GroupVersion(), res)
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	var opts metav1.UpdateOptions
	if err := decodeParams(r, &opts); err != nil {
		return err
	}
	if err := invalidOptions("UpdateOptions", metav1validation.ValidateUpdateOptions(&opts)); err != nil {
		return err
	}
	directive := fieldValidation(opts.FieldValidation)
	if info.subresource == "scale" {
		body, err := s.decodeBody(w, r, scaleGV.WithKind("Scale"), newScale(), directive)
		if err != nil {
			return err
		}
		manager := managerOrUserAgent(opts.FieldManager, r.UserAgent())
		return s.updateScale(w, r, out, st, info, dryRun(opts.DryRun), func(cur *autoscalingScale) (*autoscalingScale, error) {
			return trackScale(st, cur, body.DeepCopyObject().(*autoscalingScale), manager), nil
		})
	}
	obj, err := s.decodeBody(w, r, st.Resource().GroupVersionKind(), st.New(), directive)
	if err != nil {
		return err
	}
	if err := pruneUnknown(r.Context(), st, obj, directive); err != nil {
		return err
	}
	auditDefaulted(r, st, obj)
	manager := managerOrUserAgent(opts.FieldManager, r.UserAgent())
	res, created, err := st.Update(r.Context(), info.namespace, info.name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		return trackUpdate(st, info.subresource, existing, obj.DeepCopyObject(), manager), nil
	}, registry.UpdateOptions{DryRun: dryRun(opts.DryRun), Subresource: registry.Subresource(info.subresource)})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeObject(w, out, code, st.Resource().GroupVersion(), res)
	return nil
}
