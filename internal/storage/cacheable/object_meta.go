package cacheable

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The metav1.Object methods of Object. Getters read the wrapped
// object. A setter that changes something copies the wrapped object first
// (the original is shared with the cache and other watchers) and drops the
// cached encodings; setting a value already there costs nothing. Code
// handed an Object should not need the setters: they exist so that
// meta.Accessor works on it.

// GetNamespace implements metav1.Object.
func (o *Object) GetNamespace() string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetNamespace()
}

// SetNamespace implements metav1.Object.
func (o *Object) SetNamespace(namespace string) {
	o.set(func(m metav1.Object) bool { return m.GetNamespace() == namespace }, func(m metav1.Object) { m.SetNamespace(namespace) })
}

// GetName implements metav1.Object.
func (o *Object) GetName() string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetName()
}

// SetName implements metav1.Object.
func (o *Object) SetName(name string) {
	o.set(func(m metav1.Object) bool { return m.GetName() == name }, func(m metav1.Object) { m.SetName(name) })
}

// GetGenerateName implements metav1.Object.
func (o *Object) GetGenerateName() string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetGenerateName()
}

// SetGenerateName implements metav1.Object.
func (o *Object) SetGenerateName(name string) {
	o.set(func(m metav1.Object) bool { return m.GetGenerateName() == name }, func(m metav1.Object) { m.SetGenerateName(name) })
}

// GetUID implements metav1.Object.
func (o *Object) GetUID() types.UID {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetUID()
}

// SetUID implements metav1.Object.
func (o *Object) SetUID(uid types.UID) {
	o.set(func(m metav1.Object) bool { return m.GetUID() == uid }, func(m metav1.Object) { m.SetUID(uid) })
}

// GetResourceVersion implements metav1.Object.
func (o *Object) GetResourceVersion() string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetResourceVersion()
}

// SetResourceVersion implements metav1.Object.
func (o *Object) SetResourceVersion(version string) {
	o.set(func(m metav1.Object) bool { return m.GetResourceVersion() == version }, func(m metav1.Object) { m.SetResourceVersion(version) })
}

// GetGeneration implements metav1.Object.
func (o *Object) GetGeneration() int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetGeneration()
}

// SetGeneration implements metav1.Object.
func (o *Object) SetGeneration(generation int64) {
	o.set(func(m metav1.Object) bool { return m.GetGeneration() == generation }, func(m metav1.Object) { m.SetGeneration(generation) })
}

// GetSelfLink implements metav1.Object.
func (o *Object) GetSelfLink() string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetSelfLink()
}

// SetSelfLink implements metav1.Object.
func (o *Object) SetSelfLink(selfLink string) {
	o.set(func(m metav1.Object) bool { return m.GetSelfLink() == selfLink }, func(m metav1.Object) { m.SetSelfLink(selfLink) })
}

// GetCreationTimestamp implements metav1.Object.
func (o *Object) GetCreationTimestamp() metav1.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetCreationTimestamp()
}

// SetCreationTimestamp implements metav1.Object.
func (o *Object) SetCreationTimestamp(timestamp metav1.Time) {
	o.set(func(m metav1.Object) bool { return m.GetCreationTimestamp() == timestamp }, func(m metav1.Object) { m.SetCreationTimestamp(timestamp) })
}

// GetDeletionTimestamp implements metav1.Object.
func (o *Object) GetDeletionTimestamp() *metav1.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetDeletionTimestamp()
}

// SetDeletionTimestamp implements metav1.Object.
func (o *Object) SetDeletionTimestamp(timestamp *metav1.Time) {
	o.set(func(m metav1.Object) bool { return m.GetDeletionTimestamp() == timestamp }, func(m metav1.Object) { m.SetDeletionTimestamp(timestamp) })
}

// GetDeletionGracePeriodSeconds implements metav1.Object.
func (o *Object) GetDeletionGracePeriodSeconds() *int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetDeletionGracePeriodSeconds()
}

// SetDeletionGracePeriodSeconds implements metav1.Object.
func (o *Object) SetDeletionGracePeriodSeconds(seconds *int64) {
	o.set(func(m metav1.Object) bool { return m.GetDeletionGracePeriodSeconds() == seconds }, func(m metav1.Object) { m.SetDeletionGracePeriodSeconds(seconds) })
}

// GetLabels implements metav1.Object.
func (o *Object) GetLabels() map[string]string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetLabels()
}

// SetLabels implements metav1.Object.
func (o *Object) SetLabels(labels map[string]string) {
	o.set(func(m metav1.Object) bool { return reflect.DeepEqual(m.GetLabels(), labels) }, func(m metav1.Object) { m.SetLabels(labels) })
}

// GetAnnotations implements metav1.Object.
func (o *Object) GetAnnotations() map[string]string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetAnnotations()
}

// SetAnnotations implements metav1.Object.
func (o *Object) SetAnnotations(annotations map[string]string) {
	o.set(func(m metav1.Object) bool { return reflect.DeepEqual(m.GetAnnotations(), annotations) }, func(m metav1.Object) { m.SetAnnotations(annotations) })
}

// GetFinalizers implements metav1.Object.
func (o *Object) GetFinalizers() []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetFinalizers()
}

// SetFinalizers implements metav1.Object.
func (o *Object) SetFinalizers(finalizers []string) {
	o.set(func(m metav1.Object) bool { return reflect.DeepEqual(m.GetFinalizers(), finalizers) }, func(m metav1.Object) { m.SetFinalizers(finalizers) })
}

// GetOwnerReferences implements metav1.Object.
func (o *Object) GetOwnerReferences() []metav1.OwnerReference {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.metaLocked().GetOwnerReferences()
}

// SetOwnerReferences implements metav1.Object.
func (o *Object) SetOwnerReferences(references []metav1.OwnerReference) {
	o.set(func(m metav1.Object) bool { return reflect.DeepEqual(m.GetOwnerReferences(), references) }, func(m metav1.Object) { m.SetOwnerReferences(references) })
}

// GetManagedFields implements metav1.Object.
func (o *Object) GetManagedFields() []metav1.ManagedFieldsEntry {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.viewLocked().GetManagedFields()
}

// SetManagedFields implements metav1.Object.
func (o *Object) SetManagedFields(managedFields []metav1.ManagedFieldsEntry) {
	o.set(func(m metav1.Object) bool { return reflect.DeepEqual(m.GetManagedFields(), managedFields) }, func(m metav1.Object) { m.SetManagedFields(managedFields) })
}
