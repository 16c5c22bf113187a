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

	"github.com/regis-dev/regis/internal/authz"
)

var schemaUsers = schema.GroupResource{Resource: "users"}

// Authenticator tells who sent a request (its name only; UserAuthenticator
// adds the groups authorization needs).
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

// UserAuthenticator tells who sent a request with the user's uid and
// groups, as authorization needs them.
type UserAuthenticator interface {
	// AuthenticateUser returns the user, and false when the request
	// carries no valid credentials.
	AuthenticateUser(r *http.Request) (*authz.User, bool)
}

// Upstream's groups of every authenticated user and of anonymous requests.
const (
	AllAuthenticated   = "system:authenticated"
	AllUnauthenticated = "system:unauthenticated"
	AnonymousUser      = "system:anonymous"
)

// Anonymous is the user of a request without credentials.
func Anonymous() *authz.User {
	return &authz.User{Name: AnonymousUser, Groups: []string{AllUnauthenticated}}
}

// withAuthenticatedGroup adds system:authenticated to u's groups unless
// it is there (upstream's AuthenticatedGroupAdder).
func withAuthenticatedGroup(u *authz.User) *authz.User {
	if u.InGroup(AllAuthenticated) {
		return u
	}
	c := *u
	c.Groups = append(slices.Clip(u.Groups), AllAuthenticated)
	return &c
}

// ClientCertAuthenticator accepts requests whose TLS client certificate
// was verified by the server's TLS configuration (ClientCAs); the user is
// the certificate's common name, its groups the organizations.
type ClientCertAuthenticator struct{}

// AuthenticateUser implements UserAuthenticator.
func (ClientCertAuthenticator) AuthenticateUser(r *http.Request) (*authz.User, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil, false
	}
	subj := r.TLS.VerifiedChains[0][0].Subject
	if subj.CommonName == "" {
		return nil, false
	}
	return &authz.User{Name: subj.CommonName, Groups: slices.Clone(subj.Organization)}, true
}

// Authenticate implements Authenticator. A certificate with an empty
// common name names no user: as upstream's x509 authenticator, it does
// not authenticate the request.
func (c ClientCertAuthenticator) Authenticate(r *http.Request) (string, bool) {
	u, ok := c.AuthenticateUser(r)
	if !ok {
		return "", false
	}
	return u.Name, true
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
	users map[string]*authz.User // token → user
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
	t := &TokenAuthenticator{users: map[string]*authz.User{}}
	for i, rec := range records {
		if len(rec) < 3 {
			return nil, fmt.Errorf("token file %s: line %d: want token,user,uid[,groups], got %d fields", path, i+1, len(rec))
		}
		if rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("token file %s: line %d: empty token or user", path, i+1)
		}
		u := &authz.User{Name: rec[1], UID: rec[2]}
		// The fourth field lists groups, comma-separated (upstream's
		// split, kept as it is).
		if len(rec) >= 4 {
			u.Groups = strings.Split(rec[3], ",")
		}
		t.users[rec[0]] = u
	}
	if len(t.users) == 0 {
		return nil, errors.New("token file " + path + " has no tokens")
	}
	return t, nil
}

// NewTokenAuthenticator accepts the given tokens (token → user name).
func NewTokenAuthenticator(users map[string]string) *TokenAuthenticator {
	t := &TokenAuthenticator{users: map[string]*authz.User{}}
	for token, name := range users {
		t.users[token] = &authz.User{Name: name}
	}
	return t
}

// NewTokenUsers accepts the given tokens (token → user with groups).
func NewTokenUsers(users map[string]*authz.User) *TokenAuthenticator {
	return &TokenAuthenticator{users: users}
}

// Authenticate implements Authenticator.
func (t *TokenAuthenticator) Authenticate(r *http.Request) (string, bool) {
	u, ok := t.AuthenticateUser(r)
	if !ok {
		return "", false
	}
	return u.Name, true
}

// AuthenticateUser implements UserAuthenticator.
func (t *TokenAuthenticator) AuthenticateUser(r *http.Request) (*authz.User, bool) {
	token := bearerToken(r)
	if token == "" {
		return nil, false
	}
	var found *authz.User
	for known, user := range t.users {
		// Every token is compared, in constant time each.
		if subtle.ConstantTimeCompare([]byte(known), []byte(token)) == 1 {
			found = user
		}
	}
	return found, found != nil
}

// bearerToken is the token of an "Authorization: Bearer <token>" header
// (the scheme in any case), as upstream's bearer token authenticator
// reads it; "" when there is none.
func bearerToken(r *http.Request) string {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return ""
	}
	parts := strings.SplitN(auth, " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "bearer") {
		return ""
	}
	return parts[1]
}

// Authenticators accepts a request any of them accepts.
type Authenticators []Authenticator

// AuthenticateUser implements UserAuthenticator: the first authenticator
// that accepts the request names the user (with its groups when it is a
// UserAuthenticator), and system:authenticated is added to the groups.
func (as Authenticators) AuthenticateUser(r *http.Request) (*authz.User, bool) {
	for _, a := range as {
		if a == nil {
			continue
		}
		if ua, ok := a.(UserAuthenticator); ok {
			if u, ok := ua.AuthenticateUser(r); ok {
				return withAuthenticatedGroup(u), true
			}
			continue
		}
		if name, ok := a.Authenticate(r); ok {
			return withAuthenticatedGroup(&authz.User{Name: name}), true
		}
	}
	return nil, false
}

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
