package apiserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/audit"
	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Audit: with Config.Audit set, ServeHTTP begins each request's audit
// (its Audit-ID header), admit starts the event once the request is
// authenticated (upstream's audit filter sits between authentication
// and impersonation) and records the impersonated user and the
// authorizer's decision, the handlers record the decoded request object
// and the response object, and the recorder the response's status code.
// Without Config.Audit none of this runs.

type auditKey struct{}

// auditFrom is the audit of a request, nil when not audited.
func auditFrom(ctx context.Context) *audit.Request {
	ar, _ := ctx.Value(auditKey{}).(*audit.Request)
	return ar
}

// auditIDHeader is audit.HeaderAuditID ("Audit-ID") in its canonical
// form, which http.Header's methods look up without making a new string.
const auditIDHeader = "Audit-Id"

// auditBegin begins the audit of a request when auditing is on. Every
// response carries an Audit-ID, the request's or a new one, audited or
// not (upstream's WithAuditInit runs whatever the policy).
func (s *Server) auditBegin(w http.ResponseWriter, r *http.Request, received time.Time) (*audit.Request, *http.Request) {
	if s.cfg.Audit == nil {
		if w.Header().Get(auditIDHeader) == "" {
			id := r.Header.Get(auditIDHeader)
			if id == "" {
				id = audit.NewID()
			}
			w.Header().Set(auditIDHeader, id)
		}
		return nil, r
	}
	ar := s.cfg.Audit.Begin(r.Header.Get(auditIDHeader), received)
	if w.Header().Get(auditIDHeader) == "" {
		w.Header().Set(auditIDHeader, ar.ID())
	}
	return ar, r.WithContext(context.WithValue(r.Context(), auditKey{}, ar))
}

// auditStart starts the event of an authenticated request (u before
// impersonation); in blocking-strict mode a RequestReceived stage not
// stored fails the request, as upstream.
func auditStart(r *http.Request, info requestInfo, u *authz.User) error {
	ar := auditFrom(r.Context())
	if ar == nil {
		return nil
	}
	if err := ar.Start(r, authzAttributes(r, info, u), info.longRunning); err != nil {
		return errAuditStore
	}
	return nil
}

// errAuditStore is upstream's answer when an event could not be stored
// in blocking-strict mode.
var errAuditStore = &auditStoreError{}

type auditStoreError struct{}

func (*auditStoreError) Error() string { return "failed to store audit event" }

// auditStoreFailed is upstream's plain-text answer (its InternalError).
func auditStoreFailed(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("Internal Server Error: %q: %v", r.RequestURI, errAuditStore)
	http.Error(w, strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;").Replace(msg), http.StatusInternalServerError)
}

// auditFailedAuthentication writes the event of a request whose
// credentials were refused: no user, upstream's message of the methods
// tried, written as the 401 starts.
func auditFailedAuthentication(r *http.Request, info requestInfo) {
	if ar := auditFrom(r.Context()); ar != nil {
		ar.FailedAuthentication(r, authzAttributes(r, info, nil))
	}
}

// auditImpersonated records the user a request acts as, when it
// impersonates, with the constrained mode that allowed it
// ("impersonate:user-info"; none for the legacy verb), as upstream.
func (s *Server) auditImpersonated(r *http.Request, requestor, u *authz.User) {
	ar := auditFrom(r.Context())
	if ar == nil || u == requestor {
		return
	}
	constraint := ""
	if i, ok := s.impersonationModes.get(requestor.Name); ok && impersonationModes[i].mode != "" {
		constraint = "impersonate:" + impersonationModes[i].mode
	}
	ar.Impersonated(u, constraint)
}

// auditDefaulted records the object of a create or update as upstream
// logs it: decoded with the resource's defaults (a copy; the handler's
// object is defaulted later, with admission).
func auditDefaulted(r *http.Request, st *registry.Store, obj runtime.Object) {
	ar := auditFrom(r.Context())
	if def := st.Resource().Default; def != nil && ar.Level().GreaterOrEqual(auditv1.LevelRequest) {
		c := obj.DeepCopyObject()
		def(c)
		ar.RequestObject(c, st.Resource().GroupVersion(), auditEncode)
	}
}

// auditAuthorized records an authorization decision.
func auditAuthorized(ctx context.Context, allowed bool, reason string) {
	if ar := auditFrom(ctx); ar != nil {
		ar.Authorized(allowed, reason)
	}
}

// auditRequestObject records a decoded request body at gv.
func auditRequestObject(r *http.Request, obj runtime.Object, gv schema.GroupVersion) {
	if ar := auditFrom(r.Context()); ar != nil {
		ar.RequestObject(obj, gv, auditEncode)
	}
}

// auditDeleteOptions records the options of a delete as upstream's
// handler: encoded by the scheme of meta's internal version (whose
// DeleteOptions come out as meta.k8s.io/__internal).
func auditDeleteOptions(r *http.Request, opts *metav1.DeleteOptions) {
	if ar := auditFrom(r.Context()); ar != nil {
		ar.RequestObject(opts, metav1.SchemeGroupVersion, encodeMetaInternal)
	}
}

func encodeMetaInternal(obj runtime.Object, gv schema.GroupVersion) ([]byte, error) {
	codecs := metainternalversionscheme.Codecs
	info, _ := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	var buf bytes.Buffer
	if err := codecs.EncoderForVersion(info.Serializer, gv).Encode(obj, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// auditPatch records a patch's body.
func auditPatch(r *http.Request, body []byte) {
	if ar := auditFrom(r.Context()); ar != nil {
		ar.RequestPatch(body)
	}
}

// auditOf finds the audit of the response w writes through (the
// recorder under any compressing writer).
func auditOf(w http.ResponseWriter) *audit.Request {
	for w != nil {
		if rec, ok := w.(*recorder); ok {
			return rec.audit
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// auditResponseObject records the object a response carries.
func auditResponseObject(w http.ResponseWriter, gv schema.GroupVersion, obj runtime.Object) {
	if ar := auditOf(w); ar != nil {
		ar.ResponseObject(obj, gv, auditEncode)
	}
}

// auditList records a streamed list at level RequestResponse: the same
// JSON the list would be, written to a buffer.
func auditList(w http.ResponseWriter, gv schema.GroupVersion, kind string, l *cacheable.List) {
	ar := auditOf(w)
	if !ar.Level().GreaterOrEqual(auditv1.LevelRequestResponse) {
		return
	}
	bw := &bufferWriter{header: http.Header{}}
	if err := writeListJSON(bw, output{info: serializerFor(mediaJSON)}, gv, kind, l); err == nil {
		ar.ResponseRaw(bw.buf.Bytes())
	}
}

// auditEncode encodes an object for the audit log as the server answers
// it in JSON.
func auditEncode(obj runtime.Object, gv schema.GroupVersion) ([]byte, error) {
	var buf bytes.Buffer
	if err := encoderFor(serializerFor(mediaJSON), gv).Encode(obj, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bufferWriter is a ResponseWriter into a buffer.
type bufferWriter struct {
	header http.Header
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(int)             {}
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// AddAuditAnnotations records annotations (key, value, key, value…) in
// the audit event of ctx's request, as upstream's
// audit.AddAuditAnnotations (admission plugins call it); nothing when the
// request is not audited.
func AddAuditAnnotations(ctx context.Context, keysAndValues ...string) {
	ar := auditFrom(ctx)
	if ar == nil {
		return
	}
	for i := 0; i+1 < len(keysAndValues); i += 2 {
		ar.Annotate(keysAndValues[i], keysAndValues[i+1])
	}
}
