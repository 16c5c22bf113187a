package apiserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/apiserver"
)

func httpGet(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndMetrics(t *testing.T) {
	s := startServer(t)
	code, body := httpGet(t, s.URL+"/readyz?verbose")
	if code != 200 || !strings.Contains(body, "[+]etcd ok") || !strings.Contains(body, "readyz check passed") {
		t.Errorf("/readyz?verbose: %d %s", code, body)
	}
	if code, body := httpGet(t, s.URL+"/readyz/etcd"); code != 200 || body != "ok" {
		t.Errorf("/readyz/etcd: %d %q", code, body)
	}
	if code, body := httpGet(t, s.URL+"/livez"); code != 200 || body != "ok" {
		t.Errorf("/livez: %d %q", code, body)
	}

	cs := s.clientset(t)
	w, err := cs.CoreV1().Pods("default").Watch(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("default").Create(t.Context(), testPod("m"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.ResultChan():
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	_, body = httpGet(t, s.URL+"/metrics")
	w.Stop()
	for _, m := range []string{
		`apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="POST",version="v1"} 1`,
		"apiserver_request_duration_seconds_bucket",
		`apiserver_storage_objects{resource="pods"} 1`,
		`apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 1`,
		`apiserver_watch_events_total{group="",kind="Pod",version="v1"}`,
		"etcd_request_duration_seconds_bucket",
	} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestTokenAuthentication(t *testing.T) {
	s := startServer(t, func(c *apiserver.Config) {
		c.Authenticator = apiserver.NewTokenAuthenticator(map[string]string{"secret-token": "alice"})
	})
	cfg := rest.CopyConfig(s.config)
	cs := kubernetes.NewForConfigOrDie(cfg)
	_, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	expectStatus(t, "anonymous", err, 401, metav1.StatusReasonUnauthorized, "Unauthorized")
	cfg.BearerToken = "secret-token"
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{}); err != nil {
		t.Errorf("with the token: %v", err)
	}
	if code, _ := httpGet(t, s.URL+"/version"); code != 200 {
		t.Errorf("anonymous /version: %d", code)
	}
	if code, _ := httpGet(t, s.URL+"/api/v1/namespaces", "Authorization", "Bearer wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
}

func httpDo(t *testing.T, method, url, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestFieldValidationAndDryRun(t *testing.T) {
	s := startServer(t)
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"a":"b"},"bogus":1}`
	code, _, body := httpDo(t, http.MethodPost, s.URL+"/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/json", cm)
	if code != 400 || !strings.Contains(body, `strict decoding error: unknown field \"bogus\"`) {
		t.Errorf("Strict: %d %s", code, body)
	}
	code, h, body := httpDo(t, http.MethodPost, s.URL+"/api/v1/namespaces/default/configmaps?dryRun=All", "application/json", cm)
	if code != 201 || !strings.Contains(h.Get("Warning"), `unknown field \"bogus\"`) {
		t.Errorf("Warn (default) and dry run: %d %v %s", code, h, body)
	}
	if code, _ := httpGet(t, s.URL+"/api/v1/namespaces/default/configmaps/cm"); code != 404 {
		t.Errorf("a dry-run create was stored: %d", code)
	}
	// Upstream validates the options first: an apply needs a field manager.
	code, _, body = httpDo(t, http.MethodPatch, s.URL+"/api/v1/namespaces/default/configmaps/cm", "application/apply-patch+yaml", "{}")
	if code != 422 {
		t.Errorf("apply patch without fieldManager: %d %s", code, body)
	}
	code, _, body = httpDo(t, http.MethodPatch, s.URL+"/api/v1/namespaces/default/configmaps/cm?fieldManager=m", "application/apply-patch+yaml", "{}")
	if code != 400 || !strings.Contains(body, "invalid object type") {
		t.Errorf("apply patch without apiVersion and kind: %d %s", code, body)
	}
	code, _, body = httpDo(t, http.MethodPatch, s.URL+"/api/v1/namespaces/default/configmaps/cm?fieldManager=m&dryRun=All", "application/apply-patch+yaml",
		"apiVersion: v1\nkind: ConfigMap\ndata: {a: b}")
	if code != 201 || !strings.Contains(body, `"manager":"m","operation":"Apply"`) {
		t.Errorf("dry-run apply creating: %d %s", code, body)
	}
}
