package registry

import (
	"errors"
	"net/http"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	if IsNoSpace(err) {
		return errNoSpace
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
			return apierrors.NewServerTimeout(gr, o.verb(), 2)
		}
		return apierrors.NewInternalError(err)
	}
	if StorageUnreachable(err) {
		// etcd's client could not reach etcd: upstream's answer for an
		// unreachable storage, 504 with Retry-After, not a bare 500.
		return apierrors.NewServerTimeout(gr, o.verb(), 2)
	}
	if storage.IsInvalidError(err) {
		var ie storage.InvalidError
		errors.As(err, &ie)
		return apierrors.NewInvalid(schema.GroupKind{Group: gr.Group, Kind: gr.Resource}, name, ie.Errs)
	}
	return apierrors.NewInternalError(err)
}

// errNoSpace is kube-apiserver's answer to a write while etcd's NOSPACE
// alarm is raised: its store returns etcd's error as is, which the handler
// turns into a 500 with etcd's text and no reason.
var errNoSpace = &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
	Message: rpctypes.ErrNoSpace.Error()}}

// IsNoSpace tells etcd's "database space exceeded" (its backend quota is
// reached and its NOSPACE alarm raised) from other errors.
func IsNoSpace(err error) bool {
	return errors.Is(err, rpctypes.ErrGRPCNoSpace) || errors.Is(err, rpctypes.ErrNoSpace) ||
		strings.Contains(err.Error(), rpctypes.ErrNoSpace.Error())
}

// NewMethodNotAllowed is kube-apiserver's answer to a method a resource
// does not serve (a DELETE of the namespaces collection): go-restful finds
// no route for the method and the server's service error handler turns
// its "405: Method Not Allowed" into apierrors.NewGenericServerResponse
// (k8s.io/apiserver/pkg/server/handler.go serviceErrorHandler), whose
// Status has this message, reason MethodNotAllowed and empty details.
func NewMethodNotAllowed() error {
	return apierrors.NewGenericServerResponse(http.StatusMethodNotAllowed, "", schema.GroupResource{}, "", "405: Method Not Allowed", 0, false)
}

func (o op) verb() string {
	return map[op]string{opGet: "get", opList: "list", opCreate: "create", opUpdate: "update", opDelete: "delete"}[o]
}

// StorageUnreachable tells an error of the etcd client that says etcd could
// not be reached (the connection is down, no leader, or etcd did not
// answer in time) from the others. An error of the request's own context
// is not one.
func StorageUnreachable(err error) bool {
	var gs interface{ GRPCStatus() *grpcstatus.Status }
	if errors.As(err, &gs) {
		return unreachableCode(gs.GRPCStatus().Code())
	}
	var ec interface{ Code() codes.Code } // etcd's rpctypes.EtcdError
	if errors.As(err, &ec) {
		return unreachableCode(ec.Code())
	}
	return false
}

func unreachableCode(c codes.Code) bool {
	return c == codes.Unavailable || c == codes.DeadlineExceeded
}
