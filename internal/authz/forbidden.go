package authz

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// sanitizer keeps messages from looking like HTML (upstream's).
var sanitizer = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;")

// ForbiddenMessage is upstream's text for a refused request:
//
//	User "x" cannot get resource "pods" in API group "" in the namespace "ns"
//	User "x" cannot list resource "nodes" in API group "" at the cluster scope
//	User "x" cannot get resource "pods/log" in API group "" in the namespace "ns"
//	User "x" cannot get path "/metrics"
//
// A service account's user is its full name
// ("system:serviceaccount:NS:NAME").
func ForbiddenMessage(a *Attributes) string {
	username := ""
	if a.User != nil {
		username = a.User.Name
	}
	if !a.ResourceRequest {
		return fmt.Sprintf("User %q cannot %s path %q", username, a.Verb, a.Path)
	}
	resource := a.Resource
	if a.Subresource != "" {
		resource += "/" + a.Subresource
	}
	if a.Namespace != "" {
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", username, a.Verb, resource, a.APIGroup, a.Namespace)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", username, a.Verb, resource, a.APIGroup)
}

// Forbidden is upstream's 403 for a refused request: reason Forbidden,
// details of the group, resource and name, and the message
// `<kind> "<name>" is forbidden: <ForbiddenMessage>[: <reason>]`.
func Forbidden(a *Attributes, reason string) *apierrors.StatusError {
	msg := sanitizer.Replace(ForbiddenMessage(a))
	if reason != "" {
		msg += ": " + reason
	}
	gr := schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}
	return apierrors.NewForbidden(gr, a.Name, errorString(msg))
}

type errorString string

func (e errorString) Error() string { return string(e) }
