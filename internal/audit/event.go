package audit

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/authz"
)

// Upstream's bounds: a user agent is cut at 1 KiB; an event larger than
// DefaultMaxEventBytes loses its request and response objects (with the
// truncated annotation), as upstream's truncating backend
// (--audit-log-truncate-max-event-size's default), and is dropped when
// still larger.
const (
	maxUserAgentLength      = 1024
	userAgentTruncateSuffix = "...TRUNCATED"
	DefaultMaxEventBytes    = 100 * 1024
	truncatedAnnotation     = "audit.k8s.io/truncated"
)

// Upstream's authorization annotations.
const (
	DecisionAnnotation = "authorization.k8s.io/decision"
	ReasonAnnotation   = "authorization.k8s.io/reason"
)

// Encoder encodes an object as JSON at a group-version, as the server
// answers it.
type Encoder func(obj runtime.Object, gv schema.GroupVersion) ([]byte, error)

// Request is the audit event of one request. Its methods are safe for
// concurrent use and do nothing once the policy gave the request level
// None (or before Start).
type Request struct {
	auditor  *Auditor
	auditID  string
	received time.Time

	mu          sync.Mutex
	cfg         RequestConfig
	ev          *auditv1.Event // nil: not audited
	longRunning bool
	started     bool // the response's code is known
	onlyStarted bool // a failed authentication: no ResponseComplete
}

// ID is the request's audit ID.
func (r *Request) ID() string { return r.auditID }

// Level is the level of the request's event (None when not audited).
func (r *Request) Level() auditv1.Level {
	if r == nil {
		return auditv1.LevelNone
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ev == nil {
		return auditv1.LevelNone
	}
	return r.cfg.Level
}

// Start evaluates the policy for the request of attrs (its authenticated
// user, before impersonation) and, when it is audited, fills the event's
// metadata and writes the RequestReceived stage. An error means the
// stage could not be stored in blocking-strict mode: upstream then fails
// the request.
func (r *Request) Start(req *http.Request, attrs *authz.Attributes, longRunning bool) error {
	cfg, ev := r.newEvent(req, attrs)
	if ev == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg, r.ev, r.longRunning = cfg, ev, longRunning
	if err := r.processLocked(auditv1.StageRequestReceived); err != nil && r.auditor.strict {
		return err
	}
	return nil
}

// FailedAuthentication starts the event of a request whose credentials
// were refused, as upstream's failed-authentication audit: no user, the
// methods tried as the status's message, and only the ResponseStarted
// stage, written with the 401.
func (r *Request) FailedAuthentication(req *http.Request, attrs *authz.Attributes) {
	cfg, ev := r.newEvent(req, attrs)
	if ev == nil {
		return
	}
	ev.ResponseStatus = &metav1.Status{Message: authMethods(req)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg, r.ev, r.longRunning, r.onlyStarted = cfg, ev, true, true
}

func authMethods(req *http.Request) string {
	var methods []string
	if _, _, ok := req.BasicAuth(); ok {
		methods = append(methods, "basic")
	}
	parts := strings.Split(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if len(parts) > 1 && strings.ToLower(parts[0]) == "bearer" {
		methods = append(methods, "bearer")
	}
	if strings.TrimSpace(req.URL.Query().Get("access_token")) != "" {
		methods = append(methods, "access_token")
	}
	if req.TLS != nil && len(req.TLS.PeerCertificates) > 0 {
		methods = append(methods, "x509")
	}
	if len(methods) > 0 {
		return "Authentication failed, attempted: " + strings.Join(methods, ", ")
	}
	return "Authentication failed, no credentials provided"
}

// newEvent is the event of a request by the policy's level, nil when
// not audited.
func (r *Request) newEvent(req *http.Request, attrs *authz.Attributes) (RequestConfig, *auditv1.Event) {
	cfg := r.auditor.policy.Evaluate(attrs)
	if cfg.Level == auditv1.LevelNone {
		return cfg, nil
	}
	if attrs.ResourceRequest && Sensitive(attrs.APIGroup, attrs.Resource, attrs.Subresource) &&
		cfg.Level.GreaterOrEqual(auditv1.LevelRequest) {
		cfg.Level = auditv1.LevelMetadata
	}
	ev := &auditv1.Event{
		TypeMeta:                 metav1.TypeMeta{Kind: "Event", APIVersion: auditv1.SchemeGroupVersion.String()},
		Level:                    cfg.Level,
		AuditID:                  types.UID(r.auditID),
		RequestURI:               req.URL.RequestURI(),
		Verb:                     attrs.Verb,
		UserAgent:                userAgent(req),
		RequestReceivedTimestamp: metav1.NewMicroTime(r.received),
	}
	for _, ip := range utilnet.SourceIPs(req) {
		ev.SourceIPs = append(ev.SourceIPs, ip.String())
	}
	if u := attrs.User; u != nil {
		ev.User = userInfo(u)
	}
	if attrs.ResourceRequest {
		ev.ObjectRef = &auditv1.ObjectReference{
			Namespace: attrs.Namespace, Name: attrs.Name, Resource: attrs.Resource, Subresource: attrs.Subresource,
			APIGroup: attrs.APIGroup, APIVersion: attrs.APIVersion,
		}
	}
	return cfg, ev
}

func userAgent(req *http.Request) string {
	ua := req.UserAgent()
	if len(ua) > maxUserAgentLength {
		ua = ua[:maxUserAgentLength] + userAgentTruncateSuffix
	}
	return ua
}

func userInfo(u *authz.User) authnv1.UserInfo {
	info := authnv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: map[string]authnv1.ExtraValue{}}
	for k, v := range u.Extra {
		info.Extra[k] = v
	}
	return info
}

// Impersonated records the user a request acts as, and the constraint
// of the constrained impersonation mode that allowed it (none for the
// legacy impersonate verb).
func (r *Request) Impersonated(u *authz.User, constraint string) {
	r.visit(func(ev *auditv1.Event) {
		info := userInfo(u)
		ev.ImpersonatedUser = &info
		if constraint != "" {
			ev.AuthenticationMetadata = &auditv1.AuthenticationMetadata{ImpersonationConstraint: constraint}
		}
	})
}

// Annotate adds an annotation to the event.
func (r *Request) Annotate(key, value string) {
	r.visit(func(ev *auditv1.Event) {
		if ev.Annotations == nil {
			ev.Annotations = map[string]string{}
		}
		if _, ok := ev.Annotations[key]; !ok {
			ev.Annotations[key] = value
		}
	})
}

// Authorized records the authorizer's decision, as upstream's
// authorization filter.
func (r *Request) Authorized(allowed bool, reason string) {
	decision := "forbid"
	if allowed {
		decision = "allow"
	}
	r.Annotate(DecisionAnnotation, decision)
	r.Annotate(ReasonAnnotation, reason)
}

// Started records the response's status code; a long-running request
// (a watch) writes its ResponseStarted stage then.
func (r *Request) Started(code int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ev == nil || r.started {
		return
	}
	r.started = true
	if r.ev.ResponseStatus == nil {
		r.ev.ResponseStatus = &metav1.Status{}
	}
	r.ev.ResponseStatus.Code = int32(code)
	if r.longRunning {
		_ = r.processLocked(auditv1.StageResponseStarted)
	}
}

// Panicked writes the Panic stage of a request whose handler panicked.
func (r *Request) Panicked(p any) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ev == nil {
		return
	}
	r.ev.ResponseStatus = &metav1.Status{Code: http.StatusInternalServerError, Status: metav1.StatusFailure,
		Reason: metav1.StatusReasonInternalError, Message: fmt.Sprintf("APIServer panic'd: %v", p)}
	_ = r.processLocked(auditv1.StagePanic)
	r.ev = nil // nothing more is written
}

// Complete writes the ResponseComplete stage (and the ResponseStarted of
// a long-running request that never answered), as upstream's audit
// filter when the handler returns.
func (r *Request) Complete() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ev == nil || r.onlyStarted {
		r.ev = nil
		return
	}
	if r.ev.ResponseStatus == nil {
		r.ev.ResponseStatus = &metav1.Status{Code: http.StatusOK, Status: metav1.StatusSuccess, Message: "Connection closed early"}
		if r.longRunning {
			_ = r.processLocked(auditv1.StageResponseStarted)
		}
	}
	_ = r.processLocked(auditv1.StageResponseComplete)
	r.ev = nil
}

func (r *Request) visit(f func(*auditv1.Event)) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ev != nil {
		f(r.ev)
	}
}

// processLocked writes the event at stage unless the policy omits it.
func (r *Request) processLocked(stage auditv1.Stage) error {
	if slices.Contains(r.cfg.OmitStages, stage) {
		return nil
	}
	r.ev.Stage = stage
	if stage == auditv1.StageRequestReceived {
		r.ev.StageTimestamp = r.ev.RequestReceivedTimestamp
	} else {
		r.ev.StageTimestamp = metav1.NewMicroTime(time.Now())
	}
	line, err := r.auditor.marshal(r.ev)
	if err != nil {
		r.auditor.logger.Error("an audit event was dropped", "auditID", r.auditID, "stage", stage, "err", err)
		return err
	}
	if err := r.auditor.sink.Write(line); err != nil {
		r.auditor.logger.Error("an audit event could not be written", "auditID", r.auditID, "stage", stage, "err", err)
		return err
	}
	return nil
}
