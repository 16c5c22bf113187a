package registry

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage"
)

// OptimisticLockErrorMsg is upstream's message for an update whose
// resourceVersion is not the stored one; clients match it.
const OptimisticLockErrorMsg = "the object has been modified; please apply your changes to the latest version and try again"

// op is the kind of request a storage error happened in, which decides its
// mapping (reference §1.2, apiserver/pkg/storage/errors/storage.go).
type op int

const (
	opGet op = iota
	opList
	opCreate
	opUpdate
	opDelete
)

// interpretError maps a storage error to the API status error upstream's
// registry returns for it. API status errors pass through unchanged.
func interpretError(err error, o op, gr schema.GroupResource, name string) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	var se *storage.StorageError
	if errors.As(err, &se) {
		switch se.Code {
		case storage.ErrCodeKeyNotFound:
			if o == opList {
				name = ""
			}
			if o != opCreate {
				return apierrors.NewNotFound(gr, name)
			}
		case storage.ErrCodeKeyExists:
			if o == opCreate {
				return apierrors.NewAlreadyExists(gr, name)
			}
			return apierrors.NewConflict(gr, name, err)
		case storage.ErrCodeResourceVersionConflicts, storage.ErrCodeInvalidObj:
			if o == opUpdate || o == opDelete {
				return apierrors.NewConflict(gr, name, err)
			}
		case storage.ErrCodeUnreachable, storage.ErrCodeTimeout:
			verb := map[op]string{opGet: "get", opList: "list", opCreate: "create", opUpdate: "update", opDelete: "delete"}[o]
			return apierrors.NewServerTimeout(gr, verb, 2)
		}
		return apierrors.NewInternalError(err)
	}
	if storage.IsInvalidError(err) {
		var ie storage.InvalidError
		errors.As(err, &ie)
		return apierrors.NewInvalid(schema.GroupKind{Group: gr.Group, Kind: gr.Resource}, name, ie.Errs)
	}
	return apierrors.NewInternalError(err)
}
