package apiserver

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/regis-dev/regis/internal/registry"
)

func (s *Server) delete(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := s.deleteOptions(w, r)
	if err != nil {
		return err
	}
	deleteWarning(r.Context(), st.Resource(), opts)
	obj, deleted, err := st.Delete(r.Context(), info.namespace, info.name, registry.DeleteOptions{DeleteOptions: *opts, DryRun: dryRun(opts.DryRun)})
	if err != nil {
		return err
	}
	res := st.Resource()
	if deleted && !res.ReturnDeletedObject {
		m := metaAccessor(obj)
		writeObject(w, out, http.StatusOK, schema.GroupVersion{Version: "v1"},
			successStatus(res.GroupResource(), res.Resource, info.name, string(m.GetUID())))
		return nil
	}
	writeObject(w, out, http.StatusOK, res.GroupVersion(), obj)
	return nil
}

// deleteOptions reads DeleteOptions as upstream does: from the body when
// there is one (the query is then not read), else from the query.
func (s *Server) deleteOptions(w http.ResponseWriter, r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	data, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		info, err := requestSerializer(r)
		if err != nil {
			return nil, err
		}
		gvk := metav1.SchemeGroupVersion.WithKind("DeleteOptions")
		obj, got, err := info.Serializer.Decode(data, &gvk, opts)
		if err != nil {
			return nil, apierrors.NewBadRequest(schemeNameRE.ReplaceAllString(err.Error(), metaSchemeName))
		}
		o, ok := obj.(*metav1.DeleteOptions)
		if !ok {
			return nil, notDeleteOptions(got)
		}
		opts = o
		auditDeleteOptions(r, opts) // upstream logs the options of a body only
	} else if err := decodeParams(r, opts); err != nil {
		return nil, err
	}
	if err := invalidOptions("DeleteOptions", metav1validation.ValidateDeleteOptions(opts)); err != nil {
		return nil, err
	}
	// Upstream treats a negative grace period as 1s on the delete path.
	if g := opts.GracePeriodSeconds; g != nil && *g < 0 {
		one := int64(1)
		opts.GracePeriodSeconds = &one
	}
	return opts, nil
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	if err := checkServed(st, info.verb); err != nil {
		return err
	}
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	lo, err := listOptions(r, st)
	if err != nil {
		return err
	}
	opts, err := s.deleteOptions(w, r)
	if err != nil {
		return err
	}
	deleteWarning(r.Context(), st.Resource(), opts)
	list, err := st.DeleteCollection(r.Context(), info.namespace, lo, registry.DeleteOptions{DeleteOptions: *opts, DryRun: dryRun(opts.DryRun)})
	if err != nil {
		return err
	}
	writeObject(w, out, http.StatusOK, st.Resource().GroupVersion(), list)
	return nil
}

// deleteWarning adds the row's warning to a delete that names no
// propagation policy.
func deleteWarning(ctx context.Context, res *registry.Resource, opts *metav1.DeleteOptions) {
	//nolint:staticcheck // OrphanDependents counts as a policy, as upstream's
	if res.DeleteWarning != "" && opts.PropagationPolicy == nil && opts.OrphanDependents == nil {
		registry.AddWarning(ctx, res.DeleteWarning)
	}
}

func typesUID(s string) types.UID { return types.UID(s) }
