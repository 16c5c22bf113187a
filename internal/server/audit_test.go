package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	upstream "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/server"
)

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  users: ["system:apiserver"]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
- level: Metadata
  verbs: ["watch"]
  resources:
  - group: ""
    resources: ["configmaps"]
- level: RequestResponse
  omitStages: ["RequestReceived"]
  omitManagedFields: true
  resources:
  - group: ""
    resources: ["configmaps", "secrets", "serviceaccounts/token"]
  - group: "authentication.k8s.io"
- level: Metadata
`

// auditLog reads the events of an audit log.
func auditLog(t *testing.T, path string) []auditv1.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []auditv1.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev auditv1.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" {
			t.Errorf("line %q: not an audit.k8s.io/v1 Event", sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs
}

// waitEvents waits for the events match selects to include every stage
// of stages, and returns them.
func waitEvents(t *testing.T, path string, match func(*auditv1.Event) bool, stages ...auditv1.Stage) []auditv1.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []auditv1.Event
		have := map[auditv1.Stage]bool{}
		for _, ev := range auditLog(t, path) {
			if match(&ev) {
				got = append(got, ev)
				have[ev.Stage] = true
			}
		}
		all := true
		for _, s := range stages {
			all = all && have[s]
		}
		if all || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stagesOf(evs []auditv1.Event) []auditv1.Stage {
	var s []auditv1.Stage
	for _, ev := range evs {
		s = append(s, ev.Stage)
	}
	return s
}

type auditedServer struct {
	*full
	log    string
	admin  *kubernetes.Clientset
	config *rest.Config
}

func startAudited(t *testing.T) *auditedServer {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokens, []byte("alice-token,alice,alice-uid,\"team\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "logs", "audit.log")
	f := startFull(t, func(o *server.Options) {
		o.Audit.PolicyFile, o.Audit.LogPath, o.TokenAuthFile = policy, logPath, tokens
	})
	cfg := &rest.Config{Host: f.info.URL, QPS: -1, UserAgent: "audit-test",
		TLSClientConfig: rest.TLSClientConfig{CAData: f.info.CAData, CertData: f.info.ClientCertData, KeyData: f.info.ClientKeyData}}
	return &auditedServer{full: f, log: logPath, admin: kubernetes.NewForConfigOrDie(cfg), config: cfg}
}

// TestAuditLog: a server with a policy file and a log path writes
// upstream's events: the fields of each level, the stages the policy
// keeps, the user, the authorization decision, the Audit-ID; secrets and
// tokens never reach the log.
func TestAuditLog(t *testing.T) {
	s := startAudited(t)
	ctx := t.Context()
	ns := "audited"
	if _, err := s.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("RequestResponse", func(t *testing.T) {
		cm, err := s.admin.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm1"},
			Data: map[string]string{"colour": "blue"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool {
			return ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "configmaps" && ev.ObjectRef.Name == "cm1"
		}, auditv1.StageResponseComplete)
		if len(evs) != 1 || evs[0].Stage != auditv1.StageResponseComplete {
			t.Fatalf("stages %v: want ResponseComplete only (RequestReceived omitted by the rule)", stagesOf(evs))
		}
		ev := evs[0]
		if ev.Level != auditv1.LevelRequestResponse || ev.AuditID == "" || ev.RequestURI != "/api/v1/namespaces/audited/configmaps" ||
			ev.User.Username != "admin" || !contains(ev.User.Groups, "system:masters") || ev.UserAgent != "audit-test" ||
			len(ev.SourceIPs) != 1 || ev.SourceIPs[0] != "127.0.0.1" || ev.ResponseStatus == nil || ev.ResponseStatus.Code != 201 {
			t.Errorf("event %+v", ev)
		}
		if r := ev.ObjectRef; r.Namespace != ns || r.APIVersion != "v1" || r.APIGroup != "" {
			t.Errorf("objectRef %+v", r)
		}
		if ev.Annotations["authorization.k8s.io/decision"] != "allow" {
			t.Errorf("annotations %v", ev.Annotations)
		}
		if ev.RequestObject == nil || !strings.Contains(string(ev.RequestObject.Raw), `"colour":"blue"`) {
			t.Errorf("requestObject %v", ev.RequestObject)
		}
		if ev.ResponseObject == nil || !strings.Contains(string(ev.ResponseObject.Raw), string(cm.UID)) {
			t.Errorf("responseObject %v", ev.ResponseObject)
		}
		if strings.Contains(string(ev.ResponseObject.Raw), "managedFields") || len(cm.ManagedFields) == 0 {
			t.Errorf("managedFields in %s (the rule omits them)", ev.ResponseObject.Raw)
		}
		if ev.StageTimestamp.Before(&ev.RequestReceivedTimestamp) {
			t.Errorf("stage at %v before the request at %v", ev.StageTimestamp, ev.RequestReceivedTimestamp)
		}
	})

	t.Run("Metadata", func(t *testing.T) {
		if _, err := s.admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool {
			return ev.Verb == "get" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "namespaces" && ev.ObjectRef.Name == ns
		}, auditv1.StageRequestReceived, auditv1.StageResponseComplete)
		if len(evs) != 2 || evs[0].Stage != auditv1.StageRequestReceived || evs[1].Stage != auditv1.StageResponseComplete {
			t.Fatalf("stages %v", stagesOf(evs))
		}
		for _, ev := range evs {
			if ev.Level != auditv1.LevelMetadata || ev.RequestObject != nil || ev.ResponseObject != nil || ev.AuditID != evs[0].AuditID {
				t.Errorf("event %+v", ev)
			}
		}
		if evs[0].ResponseStatus != nil || evs[1].ResponseStatus == nil || evs[1].ResponseStatus.Code != 200 {
			t.Errorf("statuses %v, %v", evs[0].ResponseStatus, evs[1].ResponseStatus)
		}
		if !evs[0].StageTimestamp.Equal(&evs[0].RequestReceivedTimestamp) {
			t.Errorf("RequestReceived at %v, request at %v", evs[0].StageTimestamp, evs[0].RequestReceivedTimestamp)
		}
	})

	t.Run("Secrets", func(t *testing.T) {
		const value = "s3cr3t-hunter2-value"
		if _, err := s.admin.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec"},
			StringData: map[string]string{"password": value}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.admin.CoreV1().Secrets(ns).Get(ctx, "sec", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.admin.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		patch := []byte(`{"stringData":{"other":"` + value + `"}}`)
		if _, err := s.admin.CoreV1().Secrets(ns).Patch(ctx, "sec", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		tok, err := s.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			// The namespace's default account may not exist yet.
			time.Sleep(time.Second)
			if tok, err = s.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
			Spec: authenticationv1.TokenReviewSpec{Token: tok.Status.Token}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool {
			return ev.ObjectRef != nil && (ev.ObjectRef.Resource == "secrets" && ev.ObjectRef.Namespace == ns ||
				ev.ObjectRef.Resource == "tokenreviews" || ev.ObjectRef.Subresource == "token")
		}, auditv1.StageResponseComplete)
		verbs := map[string]bool{}
		for _, ev := range evs {
			verbs[ev.ObjectRef.Resource+"/"+ev.ObjectRef.Subresource+" "+ev.Verb] = true
			if ev.Level != auditv1.LevelMetadata || ev.RequestObject != nil || ev.ResponseObject != nil {
				t.Errorf("%s %s at level %s with objects %v %v", ev.Verb, ev.RequestURI, ev.Level, ev.RequestObject, ev.ResponseObject)
			}
		}
		for _, want := range []string{"secrets/ create", "secrets/ get", "secrets/ list", "secrets/ patch", "serviceaccounts/token create", "tokenreviews/ create"} {
			if !verbs[want] {
				t.Errorf("no event of %s (have %v)", want, verbs)
			}
		}
		data, err := os.ReadFile(s.log)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{value, base64.StdEncoding.EncodeToString([]byte(value)), tok.Status.Token} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("the audit log contains a secret (%.12s...)", secret)
			}
		}
	})

	t.Run("Watch", func(t *testing.T) {
		w, err := s.admin.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		match := func(ev *auditv1.Event) bool {
			return ev.Verb == "watch" && ev.ObjectRef != nil && ev.ObjectRef.Namespace == ns && ev.User.Username == "admin"
		}
		evs := waitEvents(t, s.log, match, auditv1.StageResponseStarted)
		if st := stagesOf(evs); len(st) != 2 || st[0] != auditv1.StageRequestReceived || st[1] != auditv1.StageResponseStarted {
			t.Fatalf("stages of an open watch %v: want RequestReceived, ResponseStarted", st)
		}
		if evs[1].ResponseStatus == nil || evs[1].ResponseStatus.Code != 200 {
			t.Errorf("ResponseStarted status %v", evs[1].ResponseStatus)
		}
		w.Stop()
		evs = waitEvents(t, s.log, match, auditv1.StageResponseComplete)
		if st := stagesOf(evs); len(st) != 3 || st[2] != auditv1.StageResponseComplete {
			t.Errorf("stages of a closed watch %v", st)
		}
	})

	t.Run("ListAndImpersonation", func(t *testing.T) {
		cfg := rest.CopyConfig(s.config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "bob", Groups: []string{"viewers"}}
		bob := kubernetes.NewForConfigOrDie(cfg)
		_, _ = bob.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}) // forbidden: bob may do nothing
		if _, err := s.admin.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool {
			return ev.Verb == "list" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "configmaps" && ev.ObjectRef.Namespace == ns
		}, auditv1.StageResponseComplete)
		if len(evs) != 2 {
			t.Fatalf("%d list events", len(evs))
		}
		if ev := evs[0]; ev.ImpersonatedUser == nil || ev.ImpersonatedUser.Username != "bob" || !contains(ev.ImpersonatedUser.Groups, "viewers") ||
			ev.User.Username != "admin" || ev.ResponseStatus.Code != 403 {
			t.Errorf("impersonated list %+v", ev)
		}
		if ev := evs[1]; ev.ImpersonatedUser != nil || ev.ResponseObject == nil ||
			!strings.Contains(string(ev.ResponseObject.Raw), `"kind":"ConfigMapList"`) || !strings.Contains(string(ev.ResponseObject.Raw), `"name":"cm1"`) {
			t.Errorf("list %+v", ev)
		}
		if strings.Contains(string(evs[1].ResponseObject.Raw), "managedFields") {
			t.Errorf("managedFields in %s (the rule omits them)", evs[1].ResponseObject.Raw)
		}
	})

	t.Run("Forbidden", func(t *testing.T) {
		cfg := rest.AnonymousClientConfig(s.config)
		cfg.BearerToken = "alice-token"
		alice := kubernetes.NewForConfigOrDie(cfg)
		_, err := alice.CoreV1().ConfigMaps(ns).Get(ctx, "cm1", metav1.GetOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("alice's get: %v", err)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool { return ev.User.Username == "alice" && ev.Verb == "get" },
			auditv1.StageResponseComplete)
		if len(evs) != 1 {
			t.Fatalf("stages %v", stagesOf(evs))
		}
		ev := evs[0]
		if ev.User.UID != "alice-uid" || !contains(ev.User.Groups, "team") || ev.Annotations["authorization.k8s.io/decision"] != "forbid" {
			t.Errorf("event %+v", ev)
		}
		if st := ev.ResponseStatus; st == nil || st.Code != 403 || st.Reason != metav1.StatusReasonForbidden || st.Message != err.Error() {
			t.Errorf("status %+v, client's error %q", st, err)
		}
		if ev.ResponseObject == nil || !strings.Contains(string(ev.ResponseObject.Raw), `"reason":"Forbidden"`) {
			t.Errorf("responseObject %v", ev.ResponseObject)
		}
	})

	t.Run("AuditID", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: s.tlsConfig(t, s.full.admin(t))}}
		defer hc.CloseIdleConnections()
		get := func(id string) *http.Response {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.info.URL+"/api/v1/namespaces/"+ns, nil)
			if id != "" {
				req.Header.Set("Audit-ID", id)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if got := get("my-audit-id").Header.Get("Audit-Id"); got != "my-audit-id" {
			t.Errorf("Audit-Id %q", got)
		}
		generated := get("").Header.Get("Audit-Id")
		if len(generated) != 36 {
			t.Errorf("generated Audit-Id %q", generated)
		}
		for _, id := range []string{"my-audit-id", generated} {
			evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool { return string(ev.AuditID) == id }, auditv1.StageResponseComplete)
			if len(evs) != 2 {
				t.Errorf("events of %s: %v", id, stagesOf(evs))
			}
		}
	})

	t.Run("DeleteOptions", func(t *testing.T) {
		bg := metav1.DeletePropagationBackground
		opts := metav1.DeleteOptions{PropagationPolicy: &bg}
		if err := s.admin.CoreV1().ConfigMaps(ns).Delete(ctx, "cm1", opts); err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool {
			return ev.Verb == "delete" && ev.ObjectRef != nil && ev.ObjectRef.Name == "cm1"
		}, auditv1.StageResponseComplete)
		if len(evs) != 1 || evs[0].RequestObject == nil {
			t.Fatalf("delete events %+v", evs)
		}
		// Upstream's delete handler encodes its options with meta's
		// internal scheme.
		info, _ := runtime.SerializerInfoForMediaType(metainternalversionscheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
		var want bytes.Buffer
		if err := metainternalversionscheme.Codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion).Encode(&opts, &want); err != nil {
			t.Fatal(err)
		}
		if got := string(evs[0].RequestObject.Raw); got != strings.TrimSpace(want.String()) {
			t.Errorf("requestObject %s, upstream's %s", got, want.String())
		}
	})

	t.Run("FailedAuthentication", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: s.tlsConfig(t, nil)}}
		defer hc.CloseIdleConnections()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.info.URL+"/api/v1/namespaces/"+ns+"/pods?audit=401", nil)
		req.Header.Set("Authorization", "Bearer bogus")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool { return strings.HasSuffix(ev.RequestURI, "?audit=401") },
			auditv1.StageResponseStarted)
		if len(evs) != 1 {
			t.Fatalf("stages %v: want ResponseStarted only", stagesOf(evs))
		}
		// Upstream's status is the 401's Status: its response writer logs
		// the response object over the "Authentication failed" message.
		if ev := evs[0]; ev.User.Username != "" || ev.ResponseStatus == nil || ev.ResponseStatus.Code != 401 ||
			ev.ResponseStatus.Reason != metav1.StatusReasonUnauthorized || ev.ResponseStatus.Message != "Unauthorized" {
			t.Errorf("event %+v", ev)
		}
	})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestAuditPolicyRefused: a policy file with errors refuses the start
// with upstream's message.
func TestAuditPolicyRefused(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n  nonResourceURLs: ['/x*y']\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, want := upstream.LoadPolicyFromFile(policy)
	if want == nil {
		t.Fatal("upstream loads the policy")
	}
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.Audit.PolicyFile, o.Audit.LogPath = policy, filepath.Join(dir, "audit.log")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := server.Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), want.Error()) {
		t.Errorf("start: %v\nwant upstream's %v", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("the data directory was created: the policy was not checked first")
	}
}

// TestAuditStrict: with --audit-log-mode=blocking-strict a request whose
// first event cannot be written fails with upstream's 500; in blocking
// mode it is served.
func TestAuditStrict(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full to fail the writes")
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"blocking", "blocking-strict"} {
		t.Run(mode, func(t *testing.T) {
			f := startFull(t, func(o *server.Options) {
				o.Audit.PolicyFile, o.Audit.LogPath, o.Audit.LogMode = policy, "/dev/full", mode
			})
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.tlsConfig(t, f.admin(t))}}
			defer hc.CloseIdleConnections()
			resp, err := hc.Get(f.info.URL + "/api/v1/namespaces/default")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want, wantBody := 200, ""
			if mode == "blocking-strict" {
				want, wantBody = 500, "Internal Server Error: \"/api/v1/namespaces/default\": failed to store audit event\n"
			}
			if resp.StatusCode != want || (wantBody != "" && string(body) != wantBody) {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, body, want, wantBody)
			}
		})
	}
}
