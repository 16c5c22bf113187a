package apiserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// routeCase is one request and kube-apiserver v1.37.2's answer to it:
// the code, and the message of its Status ("" for none, "plain" for the
// plain-text 404 outside every API path).
type routeCase struct {
	name, method, path string
	header             map[string]string
	body               string
	code               int
	message            string
}

func runRouteCases(t *testing.T, url string, cases []routeCase) {
	t.Helper()
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s: code %d, want %d (%s)", c.name, resp.StatusCode, c.code, data)
			continue
		}
		if c.message == "plain" {
			if string(data) != "404 page not found\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("%s: %q (%s), want the plain-text 404", c.name, data, resp.Header.Get("Content-Type"))
			}
			continue
		}
		if c.message == "" {
			continue
		}
		var st struct {
			Message string
			Details *struct{ Causes []any }
		}
		if err := json.Unmarshal(data, &st); err != nil {
			t.Errorf("%s: %v: %s", c.name, err, data)
			continue
		}
		if st.Message != c.message {
			t.Errorf("%s: message\n%q, want\n%q", c.name, st.Message, c.message)
		}
		if st.Details != nil && len(st.Details.Causes) > 0 {
			t.Errorf("%s: causes %v, want none", c.name, st.Details.Causes)
		}
	}
}

const (
	msg405 = "the server does not allow this method on the requested resource"
	msg404 = "the server could not find the requested resource"
)

// The answers upstream's go-restful router gives before any handler runs,
// and the plain-text 404 outside its web services.
func TestRoutingAsUpstream(t *testing.T) {
	s := startServer(t)
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}`
	json := map[string]string{"Content-Type": "application/json"}
	runRouteCases(t, s.URL, []routeCase{
		{name: "create", method: http.MethodPost, path: "/api/v1/namespaces/default/configmaps", header: json, body: cm, code: 201},
		{name: "PUT /version", method: http.MethodPut, path: "/version", header: json, body: "{}", code: 405, message: msg405},
		{name: "/version/x", method: http.MethodGet, path: "/version/x", code: 404, message: msg404},
		{name: "/version as YAML", method: http.MethodGet, path: "/version", header: map[string]string{"Accept": "application/yaml"}, code: 406},
		{name: "unknown group", method: http.MethodGet, path: "/apis/nope.example.com/v1/things", code: 404, message: "plain"},
		{name: "unknown group discovery", method: http.MethodGet, path: "/apis/nope.example.com", code: 404, message: "plain"},
		{name: "unknown top path", method: http.MethodGet, path: "/nope", code: 404, message: "plain"},
		{name: "unknown version of a group", method: http.MethodGet, path: "/apis/apps/v9/deployments", code: 404, message: msg404},
		{name: "unknown core version", method: http.MethodGet, path: "/api/v2/pods", code: 404, message: msg404},
		{name: "PUT collection", method: http.MethodPut, path: "/api/v1/namespaces/default/configmaps", header: json, body: cm, code: 405, message: msg405},
		{name: "POST item", method: http.MethodPost, path: "/api/v1/namespaces/default/configmaps/cm", header: json, body: cm, code: 405, message: msg405},
		{name: "POST all namespaces", method: http.MethodPost, path: "/api/v1/configmaps", header: json, body: cm, code: 405, message: msg405},
		{name: "HEAD", method: http.MethodHead, path: "/api/v1/namespaces/default/configmaps", code: 405},
		{name: "OPTIONS", method: http.MethodOptions, path: "/api/v1/namespaces/default/configmaps/cm", code: 405, message: msg405},
		{name: "POST discovery", method: http.MethodPost, path: "/api/v1", header: json, body: "{}", code: 405, message: msg405},
		{name: "DELETE status", method: http.MethodDelete, path: "/apis/apps/v1/namespaces/default/deployments/d/status", code: 405, message: msg405},
		{name: "PATCH text/plain", method: http.MethodPatch, path: "/api/v1/namespaces/default/configmaps/cm",
			header: map[string]string{"Content-Type": "text/plain"}, body: "{}", code: 415, message: "415: Unsupported Media Type"},
		{name: "POST image/png", method: http.MethodPost, path: "/api/v1/namespaces/default/configmaps",
			header: map[string]string{"Content-Type": "image/png"}, body: "x", code: 415,
			message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"},
		{name: "Accept image/png on a list", method: http.MethodGet, path: "/api/v1/namespaces/default/configmaps",
			header: map[string]string{"Accept": "image/png"}, code: 406,
			message: "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch"},
		{name: "Accept application/* on an item", method: http.MethodGet, path: "/api/v1/namespaces/default/configmaps/cm",
			header: map[string]string{"Accept": "application/*"}, code: 406,
			message: "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf"},
		{name: "Accept an unknown conversion", method: http.MethodGet, path: "/api/v1/namespaces/default/configmaps",
			header: map[string]string{"Accept": "application/json;as=Foo;g=meta.k8s.io;v=v1"}, code: 406,
			message: "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"},
		{name: "PartialObjectMetadata of a list", method: http.MethodGet, path: "/api/v1/namespaces/default/configmaps",
			header: map[string]string{"Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"}, code: 406,
			message: "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)"},
		{name: "PartialObjectMetadataList of an object", method: http.MethodGet, path: "/apis/apps/v1/namespaces/default/deployments/nope",
			header: map[string]string{"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"}, code: 404},
		{name: "bad ?timeout=", method: http.MethodGet, path: "/api/v1/namespaces/default/configmaps?timeout=x", code: 400,
			message: `invalid timeout specified in the request URL - time: invalid duration "x"`},
	})
}

// Bodies and field selectors refused with upstream's messages.
func TestDecodeErrorsAsUpstream(t *testing.T) {
	s := startServer(t)
	json := map[string]string{"Content-Type": "application/json"}
	cms := "/api/v1/namespaces/default/configmaps"
	runRouteCases(t, s.URL, []routeCase{
		{name: "wrong kind", method: http.MethodPost, path: cms, header: json, code: 400,
			body:    `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}`,
			message: `Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion`},
		{name: "wrong kind of another group", method: http.MethodPost, path: "/apis/apps/v1/namespaces/default/deployments", header: json, code: 400,
			body:    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"}}`,
			message: `ConfigMap in version "v1" cannot be handled as a Deployment: converting (v1.ConfigMap) to (apps.Deployment): unknown conversion`},
		{name: "bad field type", method: http.MethodPost, path: cms, header: json, code: 400,
			body:    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":1}}`,
			message: `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string`},
		{name: "unknown field selector", method: http.MethodGet, path: cms + "?fieldSelector=spec.nope%3Dx", code: 400,
			message: `"spec.nope" is not a known field selector: only "metadata.name", "metadata.namespace"`},
		{name: "unknown pod field selector", method: http.MethodGet, path: "/api/v1/pods?fieldSelector=spec.nope%3Dx", code: 400,
			message: `field label not supported: spec.nope`},
		{name: "known pod field selector", method: http.MethodGet, path: "/api/v1/pods?fieldSelector=spec.nodeName%3Dx", code: 200},
		// Upstream answers 500; regis 400 on purpose (README).
		{name: "get resourceVersion not a number", method: http.MethodGet, path: cms + "/x?resourceVersion=abc", code: 400,
			message: `resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax`},
		{name: "table includeObject bad", method: http.MethodGet, path: cms + "?includeObject=Bad", code: 400,
			header:  map[string]string{"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"},
			message: `Unable to convert to Table as requested: includeObject: Invalid value: "Bad": must be 'Metadata', 'Object', 'None', or empty`},
	})
}

// DeleteOptions come from the body when there is one (the query is not
// read then), else from the query; a negative grace period is 1s.
func TestDeleteOptionsAsUpstream(t *testing.T) {
	s := startServer(t)
	json := map[string]string{"Content-Type": "application/json"}
	cms := "/api/v1/namespaces/default/configmaps"
	cm := func(name string) string {
		return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"}}`
	}
	runRouteCases(t, s.URL, []routeCase{
		{name: "create a", method: http.MethodPost, path: cms, header: json, body: cm("a"), code: 201},
		{name: "create b", method: http.MethodPost, path: cms, header: json, body: cm("b"), code: 201},
		{name: "body of an unknown kind", method: http.MethodDelete, path: cms + "/a", header: json, body: cm(""), code: 400,
			message: `no kind "ConfigMap" is registered for version "v1" in scheme "pkg/runtime/scheme.go:111"`},
		{name: "body of another options kind", method: http.MethodDelete, path: cms + "/a", header: json,
			body: `{"apiVersion":"v1","kind":"ListOptions"}`, code: 400, message: "decoded object cannot be converted to DeleteOptions"},
		{name: "negative grace period", method: http.MethodDelete, path: cms + "/a?gracePeriodSeconds=-5", code: 200},
		{name: "gone", method: http.MethodGet, path: cms + "/a", code: 404},
		{name: "body wins over the query", method: http.MethodDelete, path: cms + "/b?dryRun=All", header: json,
			body: `{"apiVersion":"v1","kind":"DeleteOptions"}`, code: 200},
		{name: "not a dry run", method: http.MethodGet, path: cms + "/b", code: 404},
	})
}

// Discovery in upstream's order (kube-aggregator's group priorities),
// with upstream's storageVersionHash and aggregated response kinds.
func TestDiscoveryAsUpstream(t *testing.T) {
	s := startServer(t)
	get := func(path, accept string) []byte {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return data
	}
	var groups struct{ Groups []struct{ Name string } }
	if err := json.Unmarshal(get("/apis", "application/json"), &groups); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups.Groups {
		names = append(names, g.Name)
	}
	if len(names) < 3 || names[0] != "apiregistration.k8s.io" || names[1] != "apps" || names[2] != "events.k8s.io" {
		t.Errorf("/apis groups %v, want apiregistration.k8s.io, apps, events.k8s.io first (upstream's priorities)", names)
	}
	var apps struct {
		Resources []struct{ Name, StorageVersionHash string }
	}
	if err := json.Unmarshal(get("/apis/apps/v1", "application/json"), &apps); err != nil {
		t.Fatal(err)
	}
	for _, r := range apps.Resources {
		if r.Name == "deployments" && r.StorageVersionHash != "8aSe+NMegvE=" {
			t.Errorf("deployments storageVersionHash %q, want upstream's 8aSe+NMegvE=", r.StorageVersionHash)
		}
	}
	agg := get("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	if !strings.Contains(string(agg), `"resource":"deployments","responseKind":{"group":"","version":"","kind":"Deployment"}`) {
		t.Errorf("aggregated deployments not as upstream's: %.400s", agg)
	}
}

// ?watch= makes a list a watch for any value but false and 0, as
// upstream's request info and its bool parameters read it.
func TestWatchParamAsUpstream(t *testing.T) {
	s := startServer(t)
	for _, v := range []string{"maybe", "TRUE", "1"} {
		code, _, body := httpDo(t, http.MethodGet, s.URL+"/api/v1/namespaces/default/configmaps?timeoutSeconds=1&watch="+v, "", "")
		if code != 200 || strings.Contains(body, "ConfigMapList") {
			t.Errorf("watch=%s: %d %s, want a watch", v, code, body)
		}
	}
	for _, v := range []string{"false", "FALSE", "0"} {
		code, _, body := httpDo(t, http.MethodGet, s.URL+"/api/v1/namespaces/default/configmaps?watch="+v, "", "")
		if code != 200 || !strings.Contains(body, `"kind":"ConfigMapList"`) {
			t.Errorf("watch=%s: %d %s, want a list", v, code, body)
		}
	}
}

// TestAuditIDWithoutAuditing: every response carries an Audit-ID, the
// request's or a new UUID, even when nothing is audited (upstream's
// WithAuditInit runs whatever the policy).
func TestAuditIDWithoutAuditing(t *testing.T) {
	s := startServer(t)
	get := func(path, id string) string {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if id != "" {
			req.Header.Set("Audit-ID", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Audit-Id")
	}
	for _, path := range []string{"/api/v1/namespaces/default", "/healthz", "/no/such/path"} {
		if got := get(path, "mine"); got != "mine" {
			t.Errorf("%s: Audit-Id %q, want the request's", path, got)
		}
		a, b := get(path, ""), get(path, "")
		if len(a) != 36 || a[14] != '4' || a == b {
			t.Errorf("%s: generated Audit-Ids %q, %q", path, a, b)
		}
	}
}
