package builtin

import (
	"encoding/json"
	"reflect"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The validation of this file covers what breaks clients and controllers
// when it is absent or wrong, with the field paths, error types and
// messages of k8s.io/kubernetes pkg/apis/*/validation (v1.37). It is not
// upstream's whole validation.

// maxSecretSize is the largest total size of a secret's or config map's data.
const maxSecretSize = 1 * 1024 * 1024

func validateSelectorImmutable(o, old runtime.Object) field.ErrorList {
	sel := reflect.ValueOf(o).Elem().FieldByName("Spec").FieldByName("Selector").Interface()
	prev := reflect.ValueOf(old).Elem().FieldByName("Spec").FieldByName("Selector").Interface()
	return apivalidation.ValidateImmutableField(sel, prev, field.NewPath("spec").Child("selector"))
}

// equalJSON compares two values by their JSON encoding, so that nil and
// empty collections that encode alike are equal.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
