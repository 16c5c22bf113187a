package apiserver

import (
	"context"
	"errors"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The /scale subresource reads and writes an autoscaling/v1 Scale.
type autoscalingScale = autoscalingv1.Scale

var scaleGV = autoscalingv1.SchemeGroupVersion

func newScale() runtime.Object { return &autoscalingv1.Scale{} }

func metaAccessor(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		return &metav1.ObjectMeta{}
	}
	return m
}

// toScale returns the Scale of an object.
func toScale(st *registry.Store, obj runtime.Object) *autoscalingv1.Scale {
	m := metaAccessor(obj)
	spec, status, sel := st.Resource().Scale.Replicas(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: sel},
	}
}

// updateScale applies change to the Scale of the stored object, writes
// the new replica count to the object and answers with the new Scale. A
// failed update is returned unanswered.
func (s *Server) updateScale(w http.ResponseWriter, r *http.Request, out output, st *registry.Store, info requestInfo, dry bool,
	change func(*autoscalingScale) (*autoscalingScale, error)) error {
	res, _, err := st.Update(r.Context(), info.namespace, info.name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(st.Resource().GroupResource(), info.name)
		}
		cur := toScale(st, existing)
		// The parent's managedFields as the Scale's, and back (upstream's
		// ScaleHandler).
		mf := newScaleManagedFields(st, existing)
		if err := mf.toScale(cur); err != nil {
			return nil, err
		}
		next, err := change(cur.DeepCopy())
		if err != nil {
			return nil, err
		}
		if next.Name != "" && next.Name != info.name {
			return nil, apierrors.NewBadRequest("the name of the object (" + next.Name + ") does not match the name on the URL (" + info.name + ")")
		}
		if rv := next.ResourceVersion; rv != "" && rv != cur.ResourceVersion {
			return nil, apierrors.NewConflict(st.Resource().GroupResource(), info.name, errors.New(registry.OptimisticLockErrorMsg))
		}
		// A custom resource's replicas are checked with it, by its schema
		// and its scale paths, as upstream's custom resource storage.
		if next.Spec.Replicas < 0 && !st.Resource().Custom {
			return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), info.name,
				field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), next.Spec.Replicas, "must be greater than or equal to 0")})
		}
		st.Resource().Scale.SetReplicas(existing, next.Spec.Replicas)
		if err := mf.toParent(next, existing); err != nil {
			return nil, err
		}
		return existing, nil
	}, registry.UpdateOptions{DryRun: dry, AdmissionView: scaleAdmissionView(st)})
	if err != nil {
		return err
	}
	writeObject(w, out, http.StatusOK, scaleGV, toScale(st, res))
	return nil
}
