package openapi

import (
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/spec3"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
)

// schemes are the types whose kinds the definitions carry: client-go's
// (every k8s.io/api group-version), APIService, and the group-versions
// kube-apiserver's schemes have beyond those (admission, apiextensions,
// apiregistration/v1beta1, imagepolicy), into which the meta types
// (DeleteOptions, WatchEvent) are registered as everywhere.
func schemes() []*runtime.Scheme {
	extra := runtime.NewScheme()
	_ = apiregistrationv1.AddToScheme(extra)
	_ = apiextensionsv1.AddToScheme(extra)
	for _, gv := range []schema.GroupVersion{
		{Group: "admission.k8s.io", Version: "v1"}, {Group: "admission.k8s.io", Version: "v1beta1"},
		{Group: "apiextensions.k8s.io", Version: "v1beta1"},
		{Group: "apiregistration.k8s.io", Version: "v1beta1"}, {Group: "imagepolicy.k8s.io", Version: "v1alpha1"},
	} {
		metav1.AddToGroupVersion(extra, gv)
	}
	return []*runtime.Scheme{scheme.Scheme, extra}
}

// groupVersionFromPath is upstream's: "api/v1" is ("", "v1"),
// "apis/apps/v1" is ("apps", "v1").
func groupVersionFromPath(path string) (group, version string, ok bool) {
	parts := strings.SplitN(path, "/", 4)
	switch {
	case len(parts) < 2:
		return "", "", false
	case parts[0] == "api" && len(parts) == 2:
		return "", parts[1], true
	case parts[0] == "apis" && len(parts) == 3:
		return parts[1], parts[2], true
	default:
		return "", "", false
	}
}

// crossRegisteredKinds are the kinds metav1.AddToGroupVersion registers
// in every group.
var crossRegisteredKinds = map[string]bool{"WatchEvent": true, "DeleteOptions": true}

// filterScopedGVKs is upstream's: on the definitions of the
// cross-registered kinds, only the kinds of the document's group-version
// and of core/v1 are kept.
func filterScopedGVKs(s *spec3.OpenAPI, group, version string) {
	if s == nil || s.Components == nil {
		return
	}
	for _, sc := range s.Components.Schemas {
		if sc == nil {
			continue
		}
		gvks, ok := sc.Extensions[extensionGVK].([]any)
		if !ok || len(gvks) <= 1 {
			continue
		}
		if first, ok := gvks[0].(map[string]any); !ok || !crossRegisteredKinds[first["kind"].(string)] {
			continue
		}
		var kept []any
		for _, item := range gvks {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			g, _ := m["group"].(string)
			v, _ := m["version"].(string)
			if (g == group && v == version) || (g == "" && v == "v1") {
				kept = append(kept, item)
			}
		}
		if len(kept) > 0 {
			sc.Extensions[extensionGVK] = kept
		} else {
			delete(sc.Extensions, extensionGVK)
		}
	}
}
