package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"sync"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// The two core/v1 resources with no storage of their own: bindings, the
// legacy collection form of pods/binding, and componentstatuses, which
// probes the control plane's components on every read.

var (
	bindingsResource = metav1.APIResource{Name: "bindings", SingularName: "binding", Namespaced: true, Kind: "Binding",
		Verbs: metav1.Verbs{"create"}}
	componentStatusesResource = metav1.APIResource{Name: "componentstatuses", SingularName: "componentstatus", Kind: "ComponentStatus",
		Verbs: metav1.Verbs{"get", "list"}, ShortNames: []string{"cs"}}
)

// virtualResources are those resources as discovery lists them.
func virtualResources() []metav1.APIResource {
	return []metav1.APIResource{bindingsResource, componentStatusesResource}
}

func aggregatedVirtual(r metav1.APIResource) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if r.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	return apidiscoveryv2.APIResourceDiscovery{Resource: r.Name, ResponseKind: &metav1.GroupVersionKind{Kind: r.Kind},
		Scope: scope, SingularResource: r.SingularName, Verbs: r.Verbs, ShortNames: r.ShortNames}
}

// isVirtual reports a request on bindings or componentstatuses.
func isVirtual(info requestInfo) bool {
	return info.resourceRequest && info.group == "" && info.version == "v1" && info.subresource == "" && !info.watchPath &&
		(info.resource == bindingsResource.Name || info.resource == componentStatusesResource.Name)
}

// serveVirtual serves bindings and componentstatuses.
func (s *Server) serveVirtual(w http.ResponseWriter, r *http.Request, info requestInfo) error {
	if info.resource == bindingsResource.Name {
		if info.namespace == "" || info.name != "" {
			return notFound(r)
		}
		if err := selectRoute(r, []route{{method: http.MethodPost, produces: producesObject}}); err != nil {
			return err
		}
		return s.createBinding(w, r, info)
	}
	if info.namespace != "" {
		return notFound(r)
	}
	if err := selectRoute(r, []route{{method: http.MethodGet, produces: producesStream}}); err != nil {
		return err
	}
	registry.AddWarning(r.Context(), "v1 ComponentStatus is deprecated in v1.19+")
	if info.verb == "watch" {
		return apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "componentstatuses"}, "watch")
	}
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	statuses := s.componentStatuses(r.Context())
	if info.name == "" {
		writeObject(w, out, http.StatusOK, corev1.SchemeGroupVersion, &corev1.ComponentStatusList{Items: statuses})
		return nil
	}
	for i := range statuses {
		if statuses[i].Name == info.name {
			writeObject(w, out, http.StatusOK, corev1.SchemeGroupVersion, &statuses[i])
			return nil
		}
	}
	return apierrors.NewNotFound(schema.GroupResource{Resource: "componentstatus"}, info.name)
}

// createBinding is upstream's LegacyBindingREST: pods/binding of the pod
// the Binding names.
func (s *Server) createBinding(w http.ResponseWriter, r *http.Request, info requestInfo) error {
	st, ok := s.cfg.Registry.Lookup(corev1.SchemeGroupVersion.WithResource("pods"))
	if !ok {
		return notFound(r)
	}
	rule := st.Resource().SubresourceRule("binding")
	if rule == nil || !rule.IsAction() {
		return notFound(r)
	}
	return s.runAction(w, r, st, info, rule, func(req runtime.Object) string { return metaAccessor(req).GetName() })
}

// componentProbes are the components upstream's componentstatuses probe
// besides etcd: their health endpoints on this host.
var componentProbes = []struct{ name, url string }{
	{"controller-manager", "https://127.0.0.1:10257/healthz"},
	{"scheduler", "https://127.0.0.1:10259/healthz"},
}

// componentProbeTimeout bounds each probe.
const componentProbeTimeout = 5 * time.Second

// componentStatuses probes the components, in upstream's order, at once.
func (s *Server) componentStatuses(ctx context.Context) []corev1.ComponentStatus {
	out := make([]corev1.ComponentStatus, len(componentProbes)+1)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: componentProbeTimeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // as upstream's probes
	defer client.CloseIdleConnections()
	for i, p := range componentProbes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = componentStatus(p.name, probeURL(ctx, client, p.url))
		}()
	}
	var etcdErr error = fmt.Errorf("no etcd health check")
	for _, c := range s.cfg.Checks {
		if c.Name == "etcd" {
			cctx, cancel := context.WithTimeout(ctx, componentProbeTimeout)
			etcdErr = c.Func(cctx)
			cancel()
		}
	}
	wg.Wait()
	out[len(componentProbes)] = componentStatus("etcd-0", etcdErr)
	return out
}

func probeURL(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s", resp.Status)
	}
	return nil
}

func componentStatus(name string, err error) corev1.ComponentStatus {
	c := corev1.ComponentCondition{Type: corev1.ComponentHealthy, Status: corev1.ConditionTrue, Message: "ok"}
	if err != nil {
		c.Status, c.Message = corev1.ConditionFalse, err.Error()
	}
	return corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: name}, Conditions: []corev1.ComponentCondition{c}}
}
