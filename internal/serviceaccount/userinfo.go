package serviceaccount

import (
	"errors"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/regis-dev/regis/internal/authz"
)

// Service accounts' user names, groups and extra keys, as upstream's
// k8s.io/apiserver/pkg/authentication/serviceaccount (a server package
// regis does not import).
const (
	usernamePrefix   = "system:serviceaccount:"
	groupPrefix      = "system:serviceaccounts:"
	allAccountsGroup = "system:serviceaccounts"

	podNameKey      = "authentication.kubernetes.io/pod-name"
	podUIDKey       = "authentication.kubernetes.io/pod-uid"
	nodeNameKey     = "authentication.kubernetes.io/node-name"
	nodeUIDKey      = "authentication.kubernetes.io/node-uid"
	credentialIDKey = "authentication.kubernetes.io/credential-id"
)

// MakeUsername is a service account's user name.
func MakeUsername(namespace, name string) string { return usernamePrefix + namespace + ":" + name }

// GroupNames are the groups of a namespace's service accounts.
func GroupNames(namespace string) []string {
	return []string{allAccountsGroup, groupPrefix + namespace}
}

var errNotServiceAccount = errors.New("Username must be in the form system:serviceaccount:namespace:name")

// SplitUsername returns the namespace and name of a service account's
// user name; an error for any other name.
func SplitUsername(username string) (namespace, name string, err error) {
	rest, ok := strings.CutPrefix(username, usernamePrefix)
	if !ok {
		return "", "", errNotServiceAccount
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 2 || len(apivalidation.ValidateNamespaceName(parts[0], false)) != 0 ||
		len(apivalidation.ValidateServiceAccountName(parts[1], false)) != 0 {
		return "", "", errNotServiceAccount
	}
	return parts[0], parts[1], nil
}

// accountInfo is what a token proves: the account, and what it is bound
// to.
type accountInfo struct {
	Namespace, Name, UID string
	PodName, PodUID      string
	CredentialID         string
	NodeName, NodeUID    string
}

// user is the user a token authenticates as, with upstream's extra keys.
func (a *accountInfo) user() *authz.User {
	u := &authz.User{Name: MakeUsername(a.Namespace, a.Name), UID: a.UID, Groups: GroupNames(a.Namespace)}
	set := func(k, v string) {
		if u.Extra == nil {
			u.Extra = map[string][]string{}
		}
		u.Extra[k] = []string{v}
	}
	if a.PodName != "" && a.PodUID != "" {
		set(podNameKey, a.PodName)
		set(podUIDKey, a.PodUID)
	}
	if a.CredentialID != "" {
		set(credentialIDKey, a.CredentialID)
	}
	if a.NodeName != "" {
		set(nodeNameKey, a.NodeName)
		if a.NodeUID != "" {
			set(nodeUIDKey, a.NodeUID)
		}
	}
	return u
}
