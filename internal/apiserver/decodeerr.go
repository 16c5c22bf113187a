package apiserver

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream decodes a request body into the resource's internal type, so a
// body it cannot read is told in its handlers' words (transformDecodeError
// of k8s.io/apiserver's handlers): `X in version "v1" cannot be handled as
// a Y: ...`, or, without a kind, `the object provided is unrecognized`.

// schemeName is how upstream's errors name its scheme ("no kind "Foo" is
// registered for version "v1" in scheme ...").
const schemeName = `in scheme "pkg/api/legacyscheme/scheme.go:30"`

var schemeNameRE = regexp.MustCompile(`in scheme "[^"]*"`)

// metaSchemeName is how upstream's errors name the scheme of the
// meta.k8s.io options it decodes DeleteOptions bodies with.
const metaSchemeName = `in scheme "pkg/runtime/scheme.go:111"`

// metaOptionKinds are the kinds upstream's meta scheme knows at version v1
// besides DeleteOptions: a body of one of them decodes, and is refused
// as not DeleteOptions; any other kind is unknown to that scheme.
var metaOptionKinds = map[string]bool{"ListOptions": true, "GetOptions": true, "CreateOptions": true,
	"UpdateOptions": true, "PatchOptions": true, "WatchEvent": true, "InternalEvent": true}

// notDeleteOptions is upstream's 400 for a DELETE body of another kind.
func notDeleteOptions(got *schema.GroupVersionKind) error {
	if got != nil && got.GroupVersion() == (schema.GroupVersion{Version: "v1"}) && metaOptionKinds[got.Kind] {
		return apierrors.NewBadRequest("decoded object cannot be converted to DeleteOptions")
	}
	var kind, version string
	if got != nil {
		kind, version = got.Kind, got.GroupVersion().String()
	}
	return apierrors.NewBadRequest(fmt.Sprintf("no kind %q is registered for version %q %s", kind, version, metaSchemeName))
}

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

// parseGetResourceVersion refuses a get's resourceVersion that is not a
// number with upstream's message. Upstream's storage answers it 500 (an
// invalid-value error no layer turns into an API status); regis answers
// 400 BadRequest on purpose: bad input is the client's error, never the
// server's (README, differences kept).
func parseGetResourceVersion(rv string) error {
	if rv == "" {
		return nil
	}
	if _, err := strconv.ParseUint(rv, 10, 64); err != nil {
		return apierrors.NewBadRequest(field.Invalid(field.NewPath("resourceVersion"), rv, err.Error()).Error())
	}
	return nil
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
