package apiserver

import (
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// requestInfo is what the path and method of a request say, as upstream's
// RequestInfoFactory reads them.
type requestInfo struct {
	// resourceRequest is false for discovery, health and other paths.
	resourceRequest bool
	verb            string // get list watch create update patch delete deletecollection
	group, version  string
	resource        string
	subresource     string
	namespace, name string
	longRunning     bool
	// watchPath is true for the deprecated /api/v1/watch/... and
	// /apis/G/V/watch/... paths: a watch of the collection, or of the one
	// object the path names.
	watchPath bool
	// subpath is what follows a proxy subresource in the path ("" or
	// "/...", a trailing slash kept).
	subpath string
}

// namespaceSubresources are the subresources of a namespace, which make
// /api/v1/namespaces/NAME/SUB a namespace request rather than a namespaced
// one.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// connectSubresources are the subresources kube-apiserver counts as long
// running (its default --long-running-request-regexp): no request
// timeout.
var connectSubresources = map[string]bool{"log": true, "exec": true, "attach": true, "portforward": true, "proxy": true}

// classify parses a request.
func classify(r *http.Request) requestInfo {
	var info requestInfo
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		info.version, parts = parts[1], parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		info.group, info.version, parts = parts[1], parts[2], parts[3:]
	default:
		info.verb = strings.ToLower(r.Method)
		return info
	}
	if len(parts) == 0 {
		info.verb = strings.ToLower(r.Method)
		return info
	}
	info.resourceRequest = true
	if parts[0] == "watch" && len(parts) > 1 {
		info.watchPath, parts = true, parts[1:]
	}
	if parts[0] == "namespaces" && len(parts) > 1 {
		info.namespace = parts[1]
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			parts = parts[2:]
		}
	}
	info.resource = parts[0]
	if len(parts) > 1 {
		info.name = parts[1]
	}
	if len(parts) > 2 {
		info.subresource = parts[2]
	}
	if info.resource == "namespaces" {
		info.namespace = ""
		if info.name == "" && len(parts) == 1 {
			info.name = ""
		}
	}
	if len(parts) > 3 && parts[2] == "proxy" {
		_, info.subpath, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"+strings.Join(parts[:3], "/"))
	} else if len(parts) > 3 {
		info.resourceRequest = false // unknown deeper paths
	}
	if connectSubresources[info.subresource] {
		info.longRunning = true
	}
	q := query(r)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case info.watchPath:
			info.verb, info.longRunning = "watch", true
		case info.name != "":
			info.verb = "get"
		case watchParam(q["watch"]):
			info.verb, info.longRunning = "watch", true
		default:
			info.verb = "list"
		}
	case http.MethodPost:
		info.verb = "create"
	case http.MethodPut:
		info.verb = "update"
	case http.MethodPatch:
		info.verb = "patch"
	case http.MethodDelete:
		info.verb = "delete"
		if info.name == "" {
			info.verb = "deletecollection"
		}
	default:
		info.verb = strings.ToLower(r.Method)
	}
	return info
}

// watchParam tells whether ?watch= makes a list a watch: as upstream
// reads it, any value but "false" and "0" (in any case) does.
func watchParam(values []string) bool {
	if len(values) == 0 {
		return false
	}
	v := strings.ToLower(values[0])
	return v != "false" && v != "0"
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// gv returns the request's group-version.
func (i requestInfo) gv() schema.GroupVersion {
	return schema.GroupVersion{Group: i.group, Version: i.version}
}

// notFound is upstream's 404 for a path nothing serves.
func notFound(r *http.Request) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource",
		Details: &metav1.StatusDetails{},
	}}
}

// query is a request's query parameters: nil, and nothing parsed, when
// it has none (r.URL.Query() makes a new map at every call).
func query(r *http.Request) url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}
