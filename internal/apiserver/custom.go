package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/munnerz/goautoneg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// Custom resources are served in JSON, YAML and CBOR, never protobuf, as
// kube-apiserver's apiextensions server; their unknown fields are pruned
// at decoding, and reported as fieldValidation asks.

// customMediaTypes are the media types upstream names for custom resources.
const customMediaTypes = "application/json, application/yaml"

// withoutProtobuf takes protobuf out of a request's Accept header: a
// client that also accepts JSON gets JSON; one that accepts protobuf only
// is refused with upstream's 406.
func withoutProtobuf(r *http.Request) error {
	header := r.Header.Get("Accept")
	if header == "" || !strings.Contains(header, "protobuf") {
		return nil
	}
	var kept []string
	for _, part := range strings.Split(header, ",") {
		clauses := goautoneg.ParseAccept(part)
		if len(clauses) == 1 && strings.Contains(clauses[0].SubType, "protobuf") {
			continue
		}
		kept = append(kept, strings.TrimSpace(part))
	}
	if len(kept) == 0 {
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable,
			Message: "only the following media types are accepted: " + customMediaTypes,
		}}
	}
	r.Header.Set("Accept", strings.Join(kept, ", "))
	return nil
}

// pruneUnknown drops the fields a custom resource's schema does not know,
// as upstream's decoder of custom resources: with fieldValidation Strict
// they are a 400, with Warn (the default) warnings.
func pruneUnknown(ctx context.Context, st *registry.Store, obj runtime.Object, directive string) error {
	prune := st.Resource().Prune
	if prune == nil {
		return nil
	}
	unknown, err := prune(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if len(unknown) == 0 || directive == metav1.FieldValidationIgnore {
		return nil
	}
	msgs := make([]string, len(unknown))
	for i, path := range unknown {
		msgs[i] = fmt.Sprintf("unknown field %q", path)
	}
	if directive == metav1.FieldValidationStrict {
		kind := st.Resource().Kind
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s",
			kind, st.Resource().Version, kind, strings.Join(msgs, ", ")))
	}
	for _, m := range msgs {
		registry.AddWarning(ctx, m)
	}
	return nil
}

// customTable renders a custom resource's Table with its CRD's columns,
// each row's object as the options ask (upstream's transformObject).
func customTable(res *registry.Resource, obj runtime.Object, opts *metav1.TableOptions, version string) (*metav1.Table, error) {
	t, err := res.Table(context.Background(), obj, opts)
	if err != nil {
		return nil, err
	}
	t.TypeMeta = metav1.TypeMeta{Kind: "Table", APIVersion: metav1.GroupName + "/" + version}
	for i := range t.Rows {
		row := &t.Rows[i]
		switch opts.IncludeObject {
		case metav1.IncludeObject:
		case metav1.IncludeNone:
			row.Object.Object = nil
		default:
			if m, err := meta.Accessor(row.Object.Object); err == nil {
				row.Object.Object = partial(m, version)
			}
		}
	}
	return t, nil
}
