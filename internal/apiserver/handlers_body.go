package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// fieldValidation returns the fieldValidation directive of a write
// (upstream's default is Warn).
func fieldValidation(v string) string {
	if v == "" {
		return metav1.FieldValidationWarn
	}
	return v
}

// readBody reads a request body, turning an oversized one into upstream's
// 413.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(r.Body)
	if err = s.bodyError(r, err); err != nil {
		return nil, err
	}
	return data, nil
}

// bodyError is the API error of a failed read of a request body.
func (s *Server) bodyError(r *http.Request, err error) error {
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", s.cfg.MaxRequestBodyBytes))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || r.Context().Err() != nil {
		// The body did not arrive within the request's timeout.
		return apierrors.NewTimeoutError("request did not complete within requested timeout - context deadline exceeded", 0)
	}
	return apierrors.NewBadRequest(err.Error())
}

// decodeBody decodes a request body into a new object of gvk (the
// resource's kind unless given). Unknown and duplicate fields fail the
// request with directive Strict and become warnings with Warn.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, gvk schema.GroupVersionKind, into runtime.Object, directive string) (runtime.Object, error) {
	return s.decodeBodyOf(w, r, gvk, into, directive, nil)
}

// decodeBodyOf is decodeBody where the body may also be of the kind in
// one of the group-versions accepts; such a body decodes into an object
// of its own version.
func (s *Server) decodeBodyOf(w http.ResponseWriter, r *http.Request, gvk schema.GroupVersionKind, into runtime.Object, directive string,
	accepts []schema.GroupVersion) (runtime.Object, error) {
	info, serr := requestSerializer(r)
	data, held, err := s.readDecodedBody(r, serr == nil && decodesCopies(info.MediaType))
	if err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	dec := runtime.Decoder(info.Serializer)
	if directive != metav1.FieldValidationIgnore && info.StrictSerializer != nil {
		dec = info.StrictSerializer
	}
	obj, got, err := dec.Decode(data, &gvk, into)
	if err != nil {
		if obj == nil || !runtime.IsStrictDecodingError(err) || directive == metav1.FieldValidationStrict {
			return nil, decodeError(err, gvk, got, data)
		}
		addWarnings(r.Context(), err)
	}
	if got != nil && got.Kind != gvk.Kind {
		return nil, wrongKind(obj, gvk, *got)
	}
	if got != nil && got.GroupVersion() != gvk.GroupVersion() && !slices.Contains(accepts, got.GroupVersion()) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)",
			got.GroupVersion(), gvk.GroupVersion()))
	}
	if got != nil && got.Version != "" {
		auditRequestObject(r, obj, got.GroupVersion())
	} else {
		auditRequestObject(r, obj, gvk.GroupVersion())
	}
	releaseBody(held, data)
	return obj, nil
}

// addWarnings turns a strict decoding error into Warning headers, one per
// unknown or duplicate field.
func addWarnings(ctx context.Context, err error) {
	var sd interface{ Errors() []error }
	if errors.As(err, &sd) {
		for _, e := range sd.Errors() {
			registry.AddWarning(ctx, e.Error())
		}
		return
	}
	registry.AddWarning(ctx, err.Error())
}
