package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sync/atomic"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/regis-dev/regis/internal/registry"
)

// MaxJSONPatchOperations is upstream's bound on the operations of one JSON
// patch: more are refused with 413.
const MaxJSONPatchOperations = 10000

// DefaultJSONPatchMaxCopyBytes is upstream's bound on the bytes the copy
// operations of one JSON patch may add (--json-patch-max-copy-bytes'
// default, 3 MiB): past it the patch fails with 422.
const DefaultJSONPatchMaxCopyBytes = 3 * 1024 * 1024

// limitJSONPatchCopies lowers the JSON patch library's copy bound to
// limit. The bound is the library's process-wide variable; as upstream,
// it is only ever lowered, so the strictest server of a process wins.
func limitJSONPatchCopies(limit int64) {
	for limit > 0 {
		existing := atomic.LoadInt64(&jsonpatch.AccumulatedCopySizeLimit)
		if existing > 0 && existing <= limit {
			return
		}
		if atomic.CompareAndSwapInt64(&jsonpatch.AccumulatedCopySizeLimit, existing, limit) {
			return
		}
	}
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	pt := types.PatchType(ct)
	var opts metav1.PatchOptions
	if err := decodeParams(r, &opts); err != nil {
		return err
	}
	if err := invalidOptions("PatchOptions", metav1validation.ValidatePatchOptions(&opts, pt)); err != nil {
		return err
	}
	switch pt {
	case types.StrategicMergePatchType:
		if st.Resource().Custom {
			// Upstream's handler of custom resources knows no strategy.
			return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
				Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
				Message: "the body of the request was in an unknown format - accepted media types include: " +
					"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"}}
		}
	case types.JSONPatchType, types.MergePatchType, types.ApplyYAMLPatchType:
	case types.ApplyCBORPatchType:
		// Upstream's route takes CBOR apply configurations only with the
		// CBORServingAndStorage gate, off by default: go-restful's 415.
		return routeError(http.StatusUnsupportedMediaType, "415: Unsupported Media Type")
	default:
		return unsupportedMediaType()
	}
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	auditPatch(r, body)
	directive := fieldValidation(opts.FieldValidation)
	manager := managerOrUserAgent(opts.FieldManager, r.UserAgent())
	apply := pt == types.ApplyYAMLPatchType || pt == types.ApplyCBORPatchType
	if info.subresource == "scale" {
		return s.updateScale(w, r, out, st, info, dryRun(opts.DryRun), func(cur *autoscalingScale) (*autoscalingScale, error) {
			if apply {
				return applyScale(r.Context(), st, pt, cur, body, &opts, directive)
			}
			next := &autoscalingScale{}
			if err := applyPatch(r.Context(), pt, cur, body, next, directive, s.cfg.MaxRequestBodyBytes); err != nil {
				return nil, err
			}
			return trackScale(st, cur, next, manager), nil
		})
	}
	res, created, err := st.Update(r.Context(), info.namespace, info.name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if apply {
			return applyObject(r.Context(), st, info, pt, existing, body, &opts, directive)
		}
		if existing == nil {
			return nil, apierrors.NewNotFound(st.Resource().GroupResource(), info.name)
		}
		next := st.New()
		if err := applyPatch(r.Context(), pt, existing, body, next, directive, s.cfg.MaxRequestBodyBytes); err != nil {
			return nil, err
		}
		next.GetObjectKind().SetGroupVersionKind(st.Resource().GroupVersionKind())
		return trackUpdate(st, info.subresource, existing, next, manager), nil
	}, registry.UpdateOptions{DryRun: dryRun(opts.DryRun), Subresource: registry.Subresource(info.subresource), ForceAllowCreate: apply})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeObject(w, out, code, st.Resource().GroupVersion(), res)
	return nil
}

// applyPatch applies a JSON, merge or strategic merge patch to cur and
// decodes the result into into, checking unknown fields per directive. A
// JSON patch has at most MaxJSONPatchOperations operations and its copies
// add at most the library's AccumulatedCopySizeLimit bytes; a result over
// maxBytes (the request body limit) is refused with 413 before it is
// decoded.
func applyPatch(ctx context.Context, pt types.PatchType, cur runtime.Object, patch []byte, into runtime.Object, directive string, maxBytes int64) error {
	curJSON, err := json.Marshal(cur)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var result []byte
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
		if len(p) > MaxJSONPatchOperations {
			return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
				"The allowed maximum operations in a JSON patch is %d, got %d", MaxJSONPatchOperations, len(p)))
		}
		if result, err = p.Apply(curJSON); err != nil {
			return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
		}
	case types.MergePatchType:
		// The merge library's time grows with the square of the patch's
		// depth (a 20 KB patch of 10,000 levels takes seconds of CPU):
		// deeper patches than any object are refused first.
		if err := checkPatchDepth(patch); err != nil {
			return err
		}
		if result, err = jsonpatch.MergePatch(curJSON, patch); err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	case types.StrategicMergePatchType:
		if err := checkPatchDepth(patch); err != nil {
			return err
		}
		schemaObj := into.DeepCopyObject()
		if result, err = strategicpatch.StrategicMergePatch(curJSON, patch, schemaObj); err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	}
	if maxBytes > 0 && int64(len(result)) > maxBytes {
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("the patched object is %d bytes, limit is %d", len(result), maxBytes))
	}
	info := serializerFor(mediaJSON)
	dec := runtime.Decoder(info.Serializer)
	if directive != metav1.FieldValidationIgnore {
		dec = info.StrictSerializer
	}
	gvk := cur.GetObjectKind().GroupVersionKind()
	_, _, err = dec.Decode(result, &gvk, into)
	if err != nil {
		if !runtime.IsStrictDecodingError(err) || directive == metav1.FieldValidationStrict {
			return apierrors.NewBadRequest(err.Error())
		}
		addWarnings(ctx, err)
	}
	return nil
}

// MaxPatchDepth bounds the nesting of merge and strategic merge patches.
const MaxPatchDepth = 1000

// checkPatchDepth refuses a JSON document nested deeper than
// MaxPatchDepth with 400, reading its brackets outside strings.
func checkPatchDepth(doc []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range doc {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > MaxPatchDepth {
				return apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: nested deeper than %d levels", MaxPatchDepth))
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
