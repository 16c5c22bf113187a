package apiserver

import (
	"encoding/json"
	"net/http"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// ruleKind is the kind of a subresource, the row's group and version
// filled in where the rule names none.
func ruleKind(res *registry.Resource, rule *registry.SubresourceRule) schema.GroupVersionKind {
	gvk := rule.Kind
	if gvk.Kind == "" {
		gvk.Kind = res.Kind
	}
	if gvk.Version == "" {
		gvk.Group, gvk.Version = res.Group, res.Version
	}
	return gvk
}

// createAction serves a POST to an action subresource (pods/binding,
// pods/eviction): the request object decoded, the action run, its
// answer written with 201 Created.
func (s *Server) createAction(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	rule := st.Resource().SubresourceRule(info.subresource)
	if rule == nil || !rule.IsAction() {
		return methodNotAllowed(r)
	}
	return s.runAction(w, r, st, info, rule, func(runtime.Object) string { return info.name })
}

// runAction decodes an action's request object and runs the action on
// the object nameOf names.
func (s *Server) runAction(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo, rule *registry.SubresourceRule,
	nameOf func(req runtime.Object) string) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := createOptions(r)
	if err != nil {
		return err
	}
	gvk := ruleKind(st.Resource(), rule)
	body, err := s.decodeBodyOf(w, r, gvk, rule.New(), fieldValidation(opts.FieldValidation), rule.Accepts)
	if err != nil {
		return err
	}
	req, err := sameType(body, rule.New())
	if err != nil {
		return err
	}
	if err := st.AdmitAction(r.Context(), info.namespace, nameOf(req), info.subresource, gvk, req, dryRun(opts.DryRun)); err != nil {
		return err // dynamic admission: a create of the subresource
	}
	res, err := rule.Create(r.Context(), st, info.namespace, nameOf(req), req, registry.CreateOptions{DryRun: dryRun(opts.DryRun)})
	if err != nil {
		return err
	}
	gv := gvk.GroupVersion()
	if status, ok := res.(*metav1.Status); ok {
		if status.Code == 0 {
			status.Code = http.StatusCreated
		}
		gv = metav1.SchemeGroupVersion
	}
	writeObject(w, out, http.StatusCreated, gv, res)
	return nil
}

// sameType returns obj as an object of want's type: itself, or, for a
// body sent in another accepted version of the same kind (a
// policy/v1beta1 Eviction), its fields copied through JSON.
func sameType(obj, want runtime.Object) (runtime.Object, error) {
	if reflect.TypeOf(obj) == reflect.TypeOf(want) {
		return obj, nil
	}
	data, err := json.Marshal(obj)
	if err == nil {
		err = json.Unmarshal(data, want)
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return want, nil
}
