package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// writeObject encodes obj as the response, in the negotiated format at
// group-version gv. The encoder writes to the connection as it goes (lists
// item by item) and honours runtime.CacheableObject, so an object a watch
// cache already encoded is not encoded again.
func writeObject(w http.ResponseWriter, out output, code int, gv schema.GroupVersion, obj runtime.Object) {
	enc := encoderFor(out.info, gv)
	auditResponseObject(w, gv, obj)
	w.Header().Set("Content-Type", out.contentType())
	w.WriteHeader(code)
	// As upstream's SerializeObject: the encoding goes through a pooled
	// buffer (w copies what it is written).
	a := runtime.AllocatorPool.Get().(*runtime.Allocator)
	defer runtime.AllocatorPool.Put(a)
	_ = enc.EncodeWithAllocator(obj, w, a) // the status is sent: nothing more can be told
}

// errPageNotFound is answered with net/http's plain-text 404, as a path
// that falls through every handler of upstream's.
var errPageNotFound = errors.New("404 page not found")

// statusOf returns the metav1.Status of an error: API errors as they are,
// anything else as a 500 InternalError.
func statusOf(err error) metav1.Status {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		st := s.Status()
		if st.Code == 0 {
			st.Code = http.StatusInternalServerError
		}
		return st
	}
	return apierrors.NewInternalError(err).ErrStatus
}

// writeError answers with err as a metav1.Status, in the format the client
// accepts (JSON when it accepts nothing the server has).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errPageNotFound) {
		pageNotFound(w, r)
		return
	}
	if r.Context().Err() == context.DeadlineExceeded {
		// The request outlived --request-timeout or its ?timeout=: whatever
		// failed, upstream's timeout filter answers 504.
		err = apierrors.NewTimeoutError("request did not complete within requested timeout - context deadline exceeded", 0)
	} else if errors.Is(context.Cause(r.Context()), errStorageDown) {
		// A StorageMonitor ended the request: etcd went down under it.
		err = errStorageUnavailable()
	}
	st := statusOf(err)
	if st.Kind == "" {
		st.Kind, st.APIVersion = "Status", "v1"
	}
	out, nerr := negotiate(r)
	if nerr != nil || out.as != "" {
		out = output{info: serializerFor(mediaJSON)}
	}
	if st.Code == http.StatusTooManyRequests || st.Code == http.StatusGatewayTimeout || st.Code >= 500 {
		if d := st.Details; d != nil && d.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", itoa(int(d.RetryAfterSeconds)))
		}
	}
	writeObject(w, out, int(st.Code), schema.GroupVersion{Version: "v1"}, &st)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// successStatus is the Status upstream answers a delete with when it does
// not return the deleted object.
func successStatus(gr schema.GroupResource, kindPlural, name string, uid string) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: name, Group: gr.Group, Kind: kindPlural, UID: typesUID(uid)},
	}
}

// badRequest is a 400 with message.
func badRequest(msg string) error { return apierrors.NewBadRequest(msg) }

// methodNotAllowed is upstream's 405 for a verb a resource does not serve.
func methodNotAllowed(r *http.Request) error {
	return apierrors.NewMethodNotSupported(schema.GroupResource{}, strings.ToLower(r.Method))
}

// unsupportedMediaType is the 415 of upstream's handlers (its negotiation
// package's), naming the media types upstream reads by default.
func unsupportedMediaType() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s",
			strings.Join(producesObject, ", ")),
	}}
}
