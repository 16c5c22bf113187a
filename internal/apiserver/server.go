// Package apiserver serves the Kubernetes REST API over a registry:
// discovery, CRUD, list and watch, patches, subresources, Table output,
// content negotiation (JSON, YAML, protobuf, CBOR), errors as
// metav1.Status, authentication, health checks and metrics. It follows
// kube-apiserver's conventions closely enough that client-go and kubectl
// work unchanged. It knows nothing about etcd: storage is the registry's.
package apiserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"

	"github.com/regis-dev/regis/internal/audit"
	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/openapi"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/serviceaccount"
)

// DefaultMaxRequestBodyBytes is kube-apiserver's limit on request bodies
// (--max-resource-write-bytes): 3 MiB.
const DefaultMaxRequestBodyBytes = 3 * 1024 * 1024

// DefaultRequestTimeout is kube-apiserver's --request-timeout.
const DefaultRequestTimeout = 60 * time.Second

// DefaultMinRequestTimeout is kube-apiserver's --min-request-timeout: a
// watch without timeoutSeconds lasts between this and twice this.
const DefaultMinRequestTimeout = 1800 * time.Second

// Config configures a Server.
type Config struct {
	// Registry serves the resources. Required.
	Registry *registry.Registry
	// Version is what /version answers.
	Version version.Info
	// Checks are the named health checks of /livez, /readyz and /healthz.
	Checks []Check
	// Authenticator authenticates requests; nil lets everyone in.
	Authenticator Authenticator
	// Authorizer, when set, authorizes every request (resource and
	// non-resource) and the impersonation headers, as kube-apiserver;
	// a request with no credentials is then the anonymous user's when
	// Anonymous is set (--anonymous-auth), else 401. Without an
	// Authorizer, only health and version are served without
	// credentials and everyone authenticated may do everything.
	Authorizer authz.Authorizer
	// Anonymous allows requests with no credentials (see Authorizer).
	Anonymous bool
	// RulesResolver lists a user's rules for SelfSubjectRulesReview;
	// nil answers an incomplete, empty list.
	RulesResolver authz.RulesResolver
	// Metrics records request metrics; nil records none.
	Metrics *Metrics
	// MaxRequestBodyBytes refuses larger bodies with 413;
	// DefaultMaxRequestBodyBytes when 0.
	MaxRequestBodyBytes int64
	// JSONPatchMaxCopyBytes (--json-patch-max-copy-bytes) bounds the bytes
	// the copy operations of one JSON patch add;
	// DefaultJSONPatchMaxCopyBytes when 0.
	JSONPatchMaxCopyBytes int64
	// RequestTimeout bounds every request but watches;
	// DefaultRequestTimeout when 0.
	RequestTimeout time.Duration
	// MinRequestTimeout is the shortest server-chosen watch duration;
	// DefaultMinRequestTimeout when 0.
	MinRequestTimeout time.Duration
	// StorageMonitor, when set, refuses the requests that need etcd at
	// once (503) while its probes find etcd down. Its owner runs it.
	StorageMonitor *StorageMonitor
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
	// ServiceAccounts, when set, is the service account token issuer:
	// its API audiences for TokenReview and its OIDC discovery documents.
	ServiceAccounts *serviceaccount.Issuer
	// Audit, when set, audits requests (--audit-policy-file and
	// --audit-log-path; audit.go); nil audits nothing, at no cost.
	Audit *audit.Auditor
}

// Server is the HTTP side of regis. It is an http.Handler; it starts no
// goroutine of its own except those serving watches, which end with their
// request or when Shutdown is called.
type Server struct {
	cfg Config
	// disco is the discovery of the registry's table at a revision.
	disco atomic.Pointer[discovery]
	mux   *http.ServeMux
	// openAPISvc serves the OpenAPI documents of the table at openAPIRev.
	openAPIMu  sync.Mutex
	openAPISvc *openapi.Service
	openAPIRev uint64
	// stopping is closed by Shutdown: open watches end.
	stopping chan struct{}
	// impersonationModes remembers each requestor's last allowed
	// impersonation mode (impersonate.go).
	impersonationModes modeCache
	// gzipLists keeps the compressed items of large lists (listgzip.go).
	gzipLists gzipListCache
}

// New returns a Server for c.
func New(c Config) (*Server, error) {
	if c.Registry == nil {
		return nil, errors.New("apiserver: Registry is required")
	}
	if c.MaxRequestBodyBytes == 0 {
		c.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	if c.JSONPatchMaxCopyBytes == 0 {
		c.JSONPatchMaxCopyBytes = DefaultJSONPatchMaxCopyBytes
	}
	limitJSONPatchCopies(c.JSONPatchMaxCopyBytes)
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MinRequestTimeout == 0 {
		c.MinRequestTimeout = DefaultMinRequestTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	s := &Server{cfg: c, stopping: make(chan struct{})}
	s.disco.Store(newDiscovery(c.Registry))
	mux := http.NewServeMux()
	mux.HandleFunc("/api", s.serveAPI)
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/apis", s.serveAPIs)
	mux.HandleFunc("/apis/", s.serveAPIs)
	mux.HandleFunc("/version", s.serveVersion)
	mux.HandleFunc("/version/", s.serveVersion)
	for _, endpoint := range []string{"livez", "readyz", "healthz"} {
		h := s.healthHandler(endpoint)
		mux.Handle("/"+endpoint, h)
		mux.Handle("/"+endpoint+"/", h)
	}
	if c.Metrics != nil {
		mux.Handle("/metrics", c.Metrics.Handler())
	}
	s.handleOpenAPI(mux)
	s.handleServiceAccountIssuer(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			s.serveRootPaths(w, r)
			return
		}
		pageNotFound(w, r)
	})
	s.mux = mux
	return s, nil
}

// Shutdown ends the open watches; new requests are still served (the
// http.Server's own Shutdown stops those).
func (s *Server) Shutdown() {
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
}

// ServeHTTP authenticates, limits and times the request, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		growStack(uint(start.Nanosecond())) // see stack.go
	}
	rec := &recorder{ResponseWriter: w, code: http.StatusOK}
	info := classify(r)
	rec.audit, r = s.auditBegin(w, r, start)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				rec.audit.Panicked(p)
				panic(p)
			}
			rec.audit.Panicked(p)
			s.cfg.Logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			if !rec.wrote {
				writeError(rec, r, errors.New("internal error: the server panicked"))
			}
		}
		rec.audit.Complete()
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.observe(r, info, rec.code, time.Since(start))
		}
	}()
	var timeout time.Duration
	if !info.longRunning {
		var err error
		if timeout, err = requestTimeout(r, s.cfg.RequestTimeout); err != nil {
			writeError(rec, r, err)
			return
		}
	}
	u, err := s.admit(r, info) // authentication, impersonation, authorization
	if errors.Is(err, errAuditStore) {
		auditStoreFailed(rec, r)
		return
	}
	if err != nil {
		writeError(rec, r, err)
		return
	}
	// The request's context gets its user, warnings and deadline at once:
	// each WithContext is a copy of the request.
	ctx := registry.WithUser(r.Context(), u)
	if m := s.cfg.StorageMonitor; m != nil && needsStorage(r, info) {
		bound, release, err := m.bind(ctx)
		if err != nil {
			writeError(rec, r.WithContext(ctx), err)
			return
		}
		defer release()
		ctx = bound
	}
	ctx = registry.WithWarnings(ctx, newWarningRecorder(rec.Header()).add)
	if r.Body != nil {
		r.Body = http.MaxBytesReader(rec, r.Body, s.cfg.MaxRequestBodyBytes)
	}
	if !info.longRunning {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
		r = r.WithContext(ctx)
		// A body sent slowly ends with the request's deadline too: reading
		// it fails then, and the request is answered 504.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		if acceptsGzip(r) && !isOpenAPI(r) {
			cw := newCompressWriter(rec)
			defer cw.Close()
			s.mux.ServeHTTP(cw, r)
			return
		}
	} else {
		r = r.WithContext(ctx)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.longRunning(info, 1)
			defer s.cfg.Metrics.longRunning(info, -1)
		}
	}
	s.mux.ServeHTTP(rec, r)
}

// requestTimeout is the ?timeout= of a request when shorter than the
// server's limit.
// A ?timeout= that does not parse is upstream's 400 (its request
// deadline filter, which runs before authentication).
func requestTimeout(r *http.Request, limit time.Duration) (time.Duration, error) {
	if v := query(r).Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, apierrors.NewBadRequest("invalid timeout specified in the request URL - " + err.Error())
		}
		if d > 0 && d < limit {
			return d, nil
		}
	}
	return limit, nil
}

// anonymousAllowed lists the paths served without credentials, as
// kube-apiserver's default RBAC lets system:unauthenticated read them.
func anonymousAllowed(path string) bool {
	for _, p := range []string{"/livez", "/readyz", "/healthz", "/version"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// recorder remembers the status code of a response for metrics.
type recorder struct {
	http.ResponseWriter
	code  int
	wrote bool
	// audit, when auditing, learns the status code as the response starts.
	audit *audit.Request
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
		r.audit.Started(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.audit.Started(http.StatusOK)
	}
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
