package audit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
)

// HeaderAuditID is the header of a request's audit ID, taken from the
// request when set and echoed in the response (upstream's Audit-ID).
const HeaderAuditID = auditv1.HeaderAuditID

// Sink receives the events' JSON lines.
type Sink interface {
	// Write writes one line (ending with "\n"); an error means the event
	// was not stored.
	Write(line []byte) error
}

// Config configures an Auditor.
type Config struct {
	// Policy decides each request's level. Required.
	Policy *Policy
	// Sink stores the events. Required.
	Sink Sink
	// Strict fails a request whose RequestReceived stage was not stored
	// (--audit-log-mode=blocking-strict).
	Strict bool
	// MaxEventBytes bounds an event's line: a larger one loses its
	// objects, then is dropped; DefaultMaxEventBytes when 0.
	MaxEventBytes int
	// Logger receives the errors of encoding and writing; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Auditor audits the requests of a server.
type Auditor struct {
	policy   *Policy
	sink     Sink
	strict   bool
	maxBytes int
	logger   *slog.Logger
}

// New returns an Auditor for c.
func New(c Config) (*Auditor, error) {
	if c.Policy == nil || c.Sink == nil {
		return nil, errors.New("audit: Policy and Sink are required")
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = DefaultMaxEventBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Auditor{policy: c.Policy, sink: c.Sink, strict: c.Strict, maxBytes: c.MaxEventBytes, logger: c.Logger}, nil
}

// Begin starts the audit of a request received at received, with the
// audit ID it carries (a new UUID when empty), as upstream's
// WithAuditInit. Nothing is written before Start.
func (a *Auditor) Begin(auditID string, received time.Time) *Request {
	if auditID == "" {
		auditID = NewID()
	}
	return &Request{auditor: a, auditID: auditID, received: received}
}

// NewID is a new audit ID: a random (version 4) UUID, as upstream's.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// marshal is the event's JSON line, as upstream's log backend writes it
// (audit.k8s.io/v1, one line), bounded as upstream's truncating backend.
func (a *Auditor) marshal(ev *auditv1.Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if len(b) <= a.maxBytes {
		return append(b, '\n'), nil
	}
	if ev.RequestObject == nil && ev.ResponseObject == nil {
		return nil, fmt.Errorf("event is %d bytes, more than the %d allowed", len(b), a.maxBytes)
	}
	c := *ev
	c.RequestObject, c.ResponseObject = nil, nil
	c.Annotations = make(map[string]string, len(ev.Annotations)+1)
	for k, v := range ev.Annotations {
		c.Annotations[k] = v
	}
	c.Annotations[truncatedAnnotation] = "true"
	return a.marshal(&c)
}

// Sensitive tells whether the objects of a resource carry credentials:
// their request and response objects are never written, whatever the
// policy's level (the event is at level Metadata). Secrets hold keys,
// tokens and passwords; a TokenRequest's answer
// (serviceaccounts/token) is a token; a TokenReview carries the token
// it reviews.
func Sensitive(group, resource, subresource string) bool {
	switch {
	case group == "" && resource == "secrets":
		return true
	case group == "" && resource == "serviceaccounts" && subresource == "token":
		return true
	case group == "authentication.k8s.io" && resource == "tokenreviews":
		return true
	}
	return false
}
