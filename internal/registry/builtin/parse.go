package builtin

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// ErrUnknownKey is wrapped by ParseKey's errors for keys that do not hold an
// object of a known resource.
var ErrUnknownKey = errors.New("not an object key")

// KeyInfo is what an etcd key tells about the object stored under it.
type KeyInfo struct {
	// Resource owns the key's prefix. Where resources cohabit a prefix it is
	// the one kube-apiserver stores them as: core events (not events.k8s.io),
	// apps deployments (not extensions), networking.k8s.io ingresses.
	Resource schema.GroupResource
	// Namespace is "" for a cluster-scoped object.
	Namespace string
	Name      string
}

// storedResource is a built-in resource kube-apiserver 1.37 stores, and its
// scope (reference §3.3). The registry's resource table will replace this
// list.
type storedResource struct {
	resource   schema.GroupResource
	namespaced bool
}

func ns(group, resource string) storedResource {
	return storedResource{schema.GroupResource{Group: group, Resource: resource}, true}
}

func cluster(group, resource string) storedResource {
	return storedResource{schema.GroupResource{Group: group, Resource: resource}, false}
}

// storedResources lists the resources behind each prefix kube-apiserver
// writes. Cohabiting resources appear once, as the group they are stored as.
var storedResources = []storedResource{
	ns("", "pods"), ns("", "services"), ns("", "endpoints"), cluster("", "nodes"),
	ns("", "replicationcontrollers"), cluster("", "namespaces"), ns("", "configmaps"),
	ns("", "secrets"), ns("", "serviceaccounts"), ns("", "events"), cluster("", "persistentvolumes"),
	ns("", "persistentvolumeclaims"), ns("", "podtemplates"), ns("", "resourcequotas"),
	ns("", "limitranges"),
	ns("apps", "deployments"), ns("apps", "replicasets"), ns("apps", "daemonsets"),
	ns("apps", "statefulsets"), ns("apps", "controllerrevisions"),
	ns("autoscaling", "horizontalpodautoscalers"),
	ns("batch", "jobs"), ns("batch", "cronjobs"),
	ns("coordination.k8s.io", "leases"), ns("coordination.k8s.io", "leasecandidates"),
	ns("discovery.k8s.io", "endpointslices"),
	ns("networking.k8s.io", "ingresses"), cluster("networking.k8s.io", "ingressclasses"),
	ns("networking.k8s.io", "networkpolicies"), cluster("networking.k8s.io", "ipaddresses"),
	cluster("networking.k8s.io", "servicecidrs"),
	ns("policy", "poddisruptionbudgets"),
	ns("rbac.authorization.k8s.io", "roles"), ns("rbac.authorization.k8s.io", "rolebindings"),
	cluster("rbac.authorization.k8s.io", "clusterroles"), cluster("rbac.authorization.k8s.io", "clusterrolebindings"),
	cluster("certificates.k8s.io", "certificatesigningrequests"), cluster("certificates.k8s.io", "clustertrustbundles"),
	ns("certificates.k8s.io", "podcertificaterequests"),
	cluster("storage.k8s.io", "storageclasses"), cluster("storage.k8s.io", "volumeattachments"),
	cluster("storage.k8s.io", "csinodes"), cluster("storage.k8s.io", "csidrivers"),
	cluster("storage.k8s.io", "volumeattributesclasses"), ns("storage.k8s.io", "csistoragecapacities"),
	cluster("flowcontrol.apiserver.k8s.io", "flowschemas"), cluster("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
	cluster("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
	cluster("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
	cluster("admissionregistration.k8s.io", "validatingadmissionpolicies"),
	cluster("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
	cluster("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
	cluster("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"),
	cluster("scheduling.k8s.io", "priorityclasses"), ns("scheduling.k8s.io", "workloads"),
	ns("scheduling.k8s.io", "podgroups"), ns("scheduling.k8s.io", "compositepodgroups"),
	cluster("node.k8s.io", "runtimeclasses"),
	cluster("resource.k8s.io", "deviceclasses"), cluster("resource.k8s.io", "resourceslices"),
	ns("resource.k8s.io", "resourceclaims"), ns("resource.k8s.io", "resourceclaimtemplates"),
	cluster("resource.k8s.io", "devicetaintrules"), cluster("resource.k8s.io", "resourcepoolstatusrequests"),
	cluster("storagemigration.k8s.io", "storageversionmigrations"),
	ns("lifecycle.k8s.io", "evictions"), ns("lifecycle.k8s.io", "evictionrequests"),
	cluster("internal.apiserver.k8s.io", "storageversions"),
	cluster("apiextensions.k8s.io", "customresourcedefinitions"),
	cluster("apiregistration.k8s.io", "apiservices"),
}

// rangeKeys are the allocator bitmaps (v1 RangeAllocation), one key each,
// and the resource their storage is configured as.
var rangeKeys = map[string]schema.GroupResource{
	"servicenodeports":    {Resource: "servicenodeportallocations"},
	"serviceips":          {Resource: "serviceipallocations"},
	"secondaryserviceips": {Resource: "serviceipallocations"},
}

// byPrefix indexes storedResources by etcd prefix, with the prefixes that
// are not ResourcePrefix of their resource.
var byPrefix = func() map[string]storedResource {
	m := make(map[string]storedResource, len(storedResources)+3)
	for _, r := range storedResources {
		m[registry.ResourcePrefix(r.resource)] = r
	}
	m["nodes"] = m["minions"] // the spelling people expect, accepted on input
	// The API servers' endpoint leases (v1 Endpoints, kubernetes/pkg/controlplane),
	// under the resource names kube-apiserver's storage factory knows them by.
	m["masterleases"] = cluster("", "apiServerIPInfo")
	m["peerserverleases"] = cluster("", "apiServerPeerIPInfo")
	return m
}()

// ParseKey tells which object an etcd key holds. etcdPrefix is the
// --etcd-prefix the key was written with ("/registry"). Both spellings of
// the nodes prefix are accepted (/registry/minions/n and /registry/nodes/n).
// Keys of custom resources ("/registry/<group>/<resource>/...", the group
// having a dot) are accepted for any group, their scope being read from the
// key. Any other key, such as /registry/health, fails with an error wrapping
// ErrUnknownKey.
func ParseKey(etcdPrefix, key string) (KeyInfo, error) {
	root := registry.EtcdPathPrefix(etcdPrefix)
	rest, ok := strings.CutPrefix(key, root)
	if !ok {
		return KeyInfo{}, fmt.Errorf("%w: %q is not under the etcd prefix %q", ErrUnknownKey, key, root)
	}
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return KeyInfo{}, fmt.Errorf("%w: %q has an empty, '.' or '..' segment", ErrUnknownKey, key)
		}
	}
	if len(segs) == 2 && segs[0] == "ranges" {
		if gr, ok := rangeKeys[segs[1]]; ok {
			return KeyInfo{Resource: gr, Name: segs[1]}, nil
		}
	}

	var (
		r      storedResource
		prefix string // the matched prefix, for errors
	)
	switch {
	case len(segs) >= 3 && has(segs[0]+"/"+segs[1]):
		prefix = segs[0] + "/" + segs[1] // services/specs, apiregistration.k8s.io/apiservices
		r, segs = byPrefix[prefix], segs[2:]
	case has(segs[0]):
		prefix = segs[0]
		r, segs = byPrefix[prefix], segs[1:]
	case strings.Contains(segs[0], ".") && (len(segs) == 3 || len(segs) == 4):
		// A custom resource: its scope is what the key says.
		r = storedResource{resource: schema.GroupResource{Group: segs[0], Resource: segs[1]}, namespaced: len(segs) == 4}
		segs = segs[2:]
	default:
		return KeyInfo{}, fmt.Errorf("%w: %q has no known resource prefix", ErrUnknownKey, key)
	}

	switch {
	case r.namespaced && len(segs) == 2:
		return KeyInfo{Resource: r.resource, Namespace: segs[0], Name: segs[1]}, nil
	case !r.namespaced && len(segs) == 1:
		return KeyInfo{Resource: r.resource, Name: segs[0]}, nil
	case r.namespaced:
		return KeyInfo{}, fmt.Errorf("%w: %q: %s is namespaced, want %s%s/<namespace>/<name>", ErrUnknownKey, key, r.resource, root, prefix)
	default:
		return KeyInfo{}, fmt.Errorf("%w: %q: %s is cluster-scoped, want %s%s/<name>", ErrUnknownKey, key, r.resource, root, prefix)
	}
}

func has(prefix string) bool {
	_, ok := byPrefix[prefix]
	return ok
}
