package storage

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// ErrResourceVersionSetOnCreate is returned by Create for an object that carries a resourceVersion.
	ErrResourceVersionSetOnCreate = errors.New("resourceVersion should not be set on objects to be created")
	// ErrStorageNotReady is returned while a storage is not ready to serve.
	ErrStorageNotReady = errors.New("storage not ready")
)

// Storage error codes, numbered as upstream numbers them.
const (
	ErrCodeKeyNotFound int = iota + 1
	ErrCodeKeyExists
	ErrCodeResourceVersionConflicts
	ErrCodeInvalidObj
	ErrCodeUnreachable
	ErrCodeTimeout
	ErrCodeCorruptObj
)

var errCodeToMessage = map[int]string{
	ErrCodeKeyNotFound:              "key not found",
	ErrCodeKeyExists:                "key exists",
	ErrCodeResourceVersionConflicts: "resource version conflicts",
	ErrCodeInvalidObj:               "invalid object",
	ErrCodeUnreachable:              "server unreachable",
	ErrCodeTimeout:                  "request timeout",
	ErrCodeCorruptObj:               "corrupt object",
}

// StorageError is a typed storage failure on one key; the API layer maps the
// code to an HTTP status.
type StorageError struct {
	Code            int
	Key             string
	ResourceVersion int64
	Err             error
}

func (e *StorageError) Unwrap() error { return e.Err }

func (e *StorageError) Error() string {
	return fmt.Sprintf("StorageError: %s, Code: %d, Key: %s, ResourceVersion: %d, AdditionalErrorMsg: %v",
		errCodeToMessage[e.Code], e.Code, e.Key, e.ResourceVersion, e.Err)
}

// NewKeyNotFoundError reports that key does not exist.
func NewKeyNotFoundError(key string, rv int64) *StorageError {
	return &StorageError{Code: ErrCodeKeyNotFound, Key: key, ResourceVersion: rv}
}

// NewKeyExistsError reports that key already exists.
func NewKeyExistsError(key string, rv int64) *StorageError {
	return &StorageError{Code: ErrCodeKeyExists, Key: key, ResourceVersion: rv}
}

// NewResourceVersionConflictsError reports a resourceVersion conflict.
func NewResourceVersionConflictsError(key string, rv int64) *StorageError {
	return &StorageError{Code: ErrCodeResourceVersionConflicts, Key: key, ResourceVersion: rv}
}

// NewUnreachableError reports that etcd could not be reached.
func NewUnreachableError(key string, rv int64) *StorageError {
	return &StorageError{Code: ErrCodeUnreachable, Key: key, ResourceVersion: rv}
}

// NewTimeoutError reports a request that did not complete in time.
func NewTimeoutError(key, msg string) *StorageError {
	return &StorageError{Code: ErrCodeTimeout, Key: key, Err: errors.New(msg)}
}

// NewInvalidObjError reports a failed precondition or an invalid object.
func NewInvalidObjError(key, msg string) *StorageError {
	return &StorageError{Code: ErrCodeInvalidObj, Key: key, Err: errors.New(msg)}
}

// NewCorruptObjError reports a stored value that cannot be decrypted or decoded.
func NewCorruptObjError(key string, err error) *StorageError {
	return &StorageError{Code: ErrCodeCorruptObj, Key: key, Err: err}
}

func isErrCode(err error, code int) bool {
	var se *StorageError
	return errors.As(err, &se) && se.Code == code
}

// IsNotFound reports a missing key.
func IsNotFound(err error) bool { return isErrCode(err, ErrCodeKeyNotFound) }

// IsExist reports an existing key on create.
func IsExist(err error) bool { return isErrCode(err, ErrCodeKeyExists) }

// IsUnreachable reports an unreachable etcd.
func IsUnreachable(err error) bool { return isErrCode(err, ErrCodeUnreachable) }

// IsConflict reports a resourceVersion conflict.
func IsConflict(err error) bool { return isErrCode(err, ErrCodeResourceVersionConflicts) }

// IsRequestTimeout reports a timed-out request.
func IsRequestTimeout(err error) bool { return isErrCode(err, ErrCodeTimeout) }

// IsInvalidObj reports a failed precondition.
func IsInvalidObj(err error) bool { return isErrCode(err, ErrCodeInvalidObj) }

// IsCorruptObject reports an undecodable stored object.
func IsCorruptObject(err error) bool { return isErrCode(err, ErrCodeCorruptObj) }

// InvalidError is a validation failure of request fields (HTTP 422 on watch).
type InvalidError struct {
	Errs field.ErrorList
}

func (e InvalidError) Error() string { return e.Errs.ToAggregate().Error() }

// NewInvalidError wraps a field error list.
func NewInvalidError(errs field.ErrorList) InvalidError { return InvalidError{Errs: errs} }

// IsInvalidError reports an InvalidError.
func IsInvalidError(err error) bool {
	var ie InvalidError
	return errors.As(err, &ie)
}

// InternalError is a failure inside the storage (transformation, encoding): HTTP 500.
type InternalError struct {
	Reason string
	Err    error
}

func (e InternalError) Error() string { return e.Reason }

func (e InternalError) Unwrap() error { return e.Err }

// NewInternalError wraps err as an InternalError.
func NewInternalError(err error) InternalError { return InternalError{Reason: err.Error(), Err: err} }

// IsInternalError reports an InternalError.
func IsInternalError(err error) bool {
	var ie InternalError
	return errors.As(err, &ie)
}

// NewTooLargeResourceVersionError is upstream's 504 for a resourceVersion
// ahead of what the storage has seen.
func NewTooLargeResourceVersionError(minimumResourceVersion, currentRevision uint64, retrySeconds int) error {
	err := apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", minimumResourceVersion, currentRevision), retrySeconds)
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{
		Type:    metav1.CauseTypeResourceVersionTooLarge,
		Message: "Too large resource version",
	}}
	return err
}

// IsTooLargeResourceVersion reports the error of NewTooLargeResourceVersionError.
func IsTooLargeResourceVersion(err error) bool {
	return apierrors.IsTimeout(err) && apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge)
}
