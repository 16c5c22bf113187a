package storage

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Versioner moves resourceVersions between objects and etcd revisions.
type Versioner interface {
	// UpdateObject sets obj's resourceVersion ("" for 0).
	UpdateObject(obj runtime.Object, resourceVersion uint64) error
	// UpdateList sets a list's resourceVersion, continue token and remaining count.
	UpdateList(obj runtime.Object, resourceVersion uint64, continueValue string, remainingItemCount *int64) error
	// PrepareObjectForStorage clears the fields that are never persisted.
	PrepareObjectForStorage(obj runtime.Object) error
	// ObjectResourceVersion reads obj's resourceVersion.
	ObjectResourceVersion(obj runtime.Object) (uint64, error)
	// ParseResourceVersion parses a request's resourceVersion.
	ParseResourceVersion(resourceVersion string) (uint64, error)
}

// APIObjectVersioner keeps the resourceVersion in metadata.resourceVersion as
// a decimal etcd revision.
type APIObjectVersioner struct{}

var _ Versioner = APIObjectVersioner{}

// UpdateObject implements Versioner.
func (APIObjectVersioner) UpdateObject(obj runtime.Object, resourceVersion uint64) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	s := ""
	if resourceVersion != 0 {
		s = strconv.FormatUint(resourceVersion, 10)
	}
	m.SetResourceVersion(s)
	return nil
}

// UpdateList implements Versioner.
func (APIObjectVersioner) UpdateList(obj runtime.Object, resourceVersion uint64, next string, count *int64) error {
	if resourceVersion == 0 {
		return fmt.Errorf("illegal resource version from storage: %d", resourceVersion)
	}
	l, err := meta.ListAccessor(obj)
	if err != nil || l == nil {
		return err
	}
	l.SetResourceVersion(strconv.FormatUint(resourceVersion, 10))
	l.SetContinue(next)
	l.SetRemainingItemCount(count)
	return nil
}

// PrepareObjectForStorage implements Versioner: resourceVersion and selfLink are never stored.
func (APIObjectVersioner) PrepareObjectForStorage(obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	m.SetResourceVersion("")
	m.SetSelfLink("")
	return nil
}

// ObjectResourceVersion implements Versioner.
func (APIObjectVersioner) ObjectResourceVersion(obj runtime.Object) (uint64, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return 0, err
	}
	v := m.GetResourceVersion()
	if v == "" {
		return 0, nil
	}
	return strconv.ParseUint(v, 10, 64)
}

// ParseResourceVersion implements Versioner: "" and "0" are 0.
func (APIObjectVersioner) ParseResourceVersion(resourceVersion string) (uint64, error) {
	if resourceVersion == "" || resourceVersion == "0" {
		return 0, nil
	}
	v, err := strconv.ParseUint(resourceVersion, 10, 64)
	if err != nil {
		return 0, NewInvalidError(field.ErrorList{field.Invalid(field.NewPath("resourceVersion"), resourceVersion, err.Error())})
	}
	return v, nil
}
