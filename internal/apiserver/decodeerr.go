package apiserver

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Upstream decodes a request body into the resource's internal type, so a
// body it cannot read is told in its handlers' words (transformDecodeError
// of k8s.io/apiserver's handlers): `X in version "v1" cannot be handled as
// a Y: ...`, or, without a kind, `the object provided is unrecognized`.

// schemeName is how upstream's errors name its scheme ("no kind "Foo" is
// registered for version "v1" in scheme ...").
const schemeName = `in scheme "pkg/api/legacyscheme/scheme.go:30"`

var schemeNameRE = regexp.MustCompile(`in scheme "[^"]*"`)

// decodeError is upstream's 400 for a body that did not decode into kind
// want; got is the kind the decoder read from the body, if any.
func decodeError(err error, want schema.GroupVersionKind, got *schema.GroupVersionKind, body []byte) error {
	msg := schemeNameRE.ReplaceAllString(err.Error(), schemeName)
	if got != nil && got.Kind != "" {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %s", got.Kind, got.Version, want.Kind, msg))
	}
	return apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): %s (%s)", want.Kind, msg, summarizeData(body, 30)))
}

// wrongKind is upstream's 400 for a body of another kind than the
// resource's: its conversion to the resource's internal type fails.
func wrongKind(obj runtime.Object, want schema.GroupVersionKind, got schema.GroupVersionKind) error {
	from := reflect.TypeOf(obj).String()
	from = strings.TrimPrefix(from, "*")
	conv := fmt.Errorf("converting (%s) to (%s.%s): unknown conversion", from, internalPackage(want.Group), want.Kind)
	return decodeError(conv, want, &got, nil)
}

// internalPackage is the name of the package of a group's internal types
// in k8s.io/kubernetes (pkg/apis/<name>), which upstream's conversion
// errors name.
func internalPackage(group string) string {
	switch group {
	case "", "events.k8s.io":
		return "core"
	case "rbac.authorization.k8s.io":
		return "rbac"
	case "internal.apiserver.k8s.io":
		return "apiserverinternal"
	}
	name, _, _ := strings.Cut(group, ".")
	return name
}

// summarizeData is upstream's short form of a body in an error: JSON as
// it is, anything else in hex, cut at maxLength bytes.
func summarizeData(data []byte, maxLength int) string {
	switch {
	case len(data) == 0:
		return "<empty>"
	case data[0] == '{':
		if len(data) > maxLength {
			return string(data[:maxLength]) + " ..."
		}
		return string(data)
	default:
		if len(data) > maxLength {
			return hex.EncodeToString(data[:maxLength]) + " ..."
		}
		return hex.EncodeToString(data)
	}
}
