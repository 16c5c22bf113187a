package apiserver

import (
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var schemaUsers = schema.GroupResource{Resource: "users"}

// Authenticator tells who sent a request. Every authenticated user may do
// everything (regis has no authorization yet).
type Authenticator interface {
	// Authenticate returns the user name, and false when the request
	// carries no valid credentials.
	Authenticate(r *http.Request) (user string, ok bool)
}

// unauthorized is upstream's 401.
func unauthorized() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnauthorized, Reason: metav1.StatusReasonUnauthorized,
		Message: "Unauthorized",
	}}
}

// ClientCertAuthenticator accepts requests whose TLS client certificate
// was verified by the server's TLS configuration (ClientCAs); the user is
// the certificate's common name.
type ClientCertAuthenticator struct{}

// Authenticate implements Authenticator. A certificate with an empty
// common name names no user: as upstream's x509 authenticator, it does
// not authenticate the request.
func (ClientCertAuthenticator) Authenticate(r *http.Request) (string, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return "", false
	}
	user := r.TLS.VerifiedChains[0][0].Subject.CommonName
	return user, user != ""
}

// Impersonation headers (authentication/v1's names).
const (
	impersonateUserHeader        = "Impersonate-User"
	impersonateUIDHeader         = "Impersonate-Uid"
	impersonateGroupHeader       = "Impersonate-Group"
	impersonateUserExtraHeaderPf = "Impersonate-Extra-"
)

// refuseImpersonation answers a request that asks to act as another user.
// regis has no authorization yet, so nobody may impersonate: upstream's
// answer to a user without the impersonate permission (403, or 400 when
// only groups, a uid or extras are asked without a user). A request that
// asks for nothing returns nil.
func refuseImpersonation(r *http.Request, caller string) error {
	var asked []string
	for name := range r.Header {
		if name == impersonateUIDHeader || name == impersonateGroupHeader || strings.HasPrefix(name, impersonateUserExtraHeaderPf) {
			asked = append(asked, name)
		}
	}
	slices.Sort(asked)
	user := r.Header.Get(impersonateUserHeader)
	if user == "" {
		if _, ok := r.Header[impersonateUserHeader]; !ok && len(asked) == 0 {
			return nil
		}
		return apierrors.NewBadRequest(fmt.Sprintf("requested %v without impersonating a user", asked))
	}
	return apierrors.NewForbidden(schemaUsers, user,
		fmt.Errorf("User %q cannot impersonate resource %q in API group %q at the cluster scope", caller, "users", ""))
}

// TokenAuthenticator accepts bearer tokens of a --token-auth-file.
type TokenAuthenticator struct {
	users map[string]string // token → user
}

// LoadTokenFile reads upstream's token file: CSV lines
// "token,user,uid[,\"group1,group2\"]"; lines starting with # are skipped.
func LoadTokenFile(path string) (*TokenAuthenticator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	t := &TokenAuthenticator{users: map[string]string{}}
	for i, rec := range records {
		if len(rec) < 3 {
			return nil, fmt.Errorf("token file %s: line %d: want token,user,uid[,groups], got %d fields", path, i+1, len(rec))
		}
		if rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("token file %s: line %d: empty token or user", path, i+1)
		}
		t.users[rec[0]] = rec[1]
	}
	if len(t.users) == 0 {
		return nil, errors.New("token file " + path + " has no tokens")
	}
	return t, nil
}

// NewTokenAuthenticator accepts the given tokens (token → user).
func NewTokenAuthenticator(users map[string]string) *TokenAuthenticator {
	return &TokenAuthenticator{users: users}
}

// Authenticate implements Authenticator.
func (t *TokenAuthenticator) Authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return "", false
	}
	for known, user := range t.users {
		if subtle.ConstantTimeCompare([]byte(known), []byte(strings.TrimSpace(token))) == 1 {
			return user, true
		}
	}
	return "", false
}

// Authenticators accepts a request any of them accepts.
type Authenticators []Authenticator

// Authenticate implements Authenticator.
func (as Authenticators) Authenticate(r *http.Request) (string, bool) {
	for _, a := range as {
		if a == nil {
			continue
		}
		if u, ok := a.Authenticate(r); ok {
			return u, true
		}
	}
	return "", false
}
