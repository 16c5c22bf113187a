//go:build oracle

// Package audit sends the same requests to regis and to a real
// kube-apiserver v1.37.2, both auditing with the same policy, and
// compares their audit logs event by event (the fields that do not
// depend on time, IDs or generated names).
// Run with: cd oracle && go test -tags oracle -count=1 ./audit/ -v
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

const policy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  userGroups: ["system:nodes", "system:serviceaccounts"]
- level: None
  users: ["system:apiserver", "system:kube-controller-manager", "system:kube-scheduler"]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/openapi*", "/metrics"]
- level: Metadata
  verbs: ["watch"]
- level: RequestResponse
  omitStages: ["RequestReceived"]
  resources:
  - group: ""
    resources: ["configmaps"]
- level: Request
  resources:
  - group: ""
    resources: ["namespaces"]
- level: Metadata
`

const tokens = "admin-token,admin,admin-uid,system:masters\nalice-token,alice,alice-uid,team\n"

type target struct {
	name, url, log string
}

func TestAuditLogsAsUpstream(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"policy.yaml": policy, "tokens.csv": tokens} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	oracle := startOracle(t, ctx, dir)
	regis := startRegis(t, ctx, dir)

	for i, step := range steps {
		ua := fmt.Sprintf("audit-oracle/%02d", i)
		for _, tg := range []target{oracle, regis} {
			code := step.send(t, tg, ua)
			if code != step.code {
				t.Errorf("%s: %s %s answered %d, want %d", tg.name, step.method, step.path, code, step.code)
			}
		}
	}
	time.Sleep(2 * time.Second) // the last events reach the logs
	want, got := byAgent(t, oracle.log), byAgent(t, regis.log)
	for i, step := range steps {
		ua := fmt.Sprintf("audit-oracle/%02d", i)
		w, g := want[ua], got[ua]
		if len(w) == 0 {
			t.Errorf("%s %s %s: kube-apiserver wrote no event", ua, step.method, step.path)
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s %s %s: %d events from kube-apiserver, %d from regis; differences:\n%s", ua, step.method, step.path,
				len(w), len(g), diff(w, g))
		}
	}
}

type step struct {
	method, path, token, body, contentType string
	header                                 map[string]string
	code                                   int
}

var steps = []step{
	{method: "POST", path: "/api/v1/namespaces", token: "admin-token", body: `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"audit"}}`, code: 201},
	{method: "GET", path: "/api/v1/namespaces/audit", token: "admin-token", code: 200},
	{method: "POST", path: "/api/v1/namespaces/audit/configmaps", token: "admin-token",
		body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{"a":"b"}},"data":{"k":"v"}}`, code: 201},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps/cm", token: "admin-token", code: 200},
	{method: "PATCH", path: "/api/v1/namespaces/audit/configmaps/cm", token: "admin-token", contentType: "application/merge-patch+json",
		body: `{"data":{"k2":"v2"}}`, code: 200},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps/missing", token: "admin-token", code: 404},
	{method: "POST", path: "/api/v1/namespaces/audit/configmaps", token: "admin-token",
		body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}`, code: 409},
	{method: "PUT", path: "/api/v1/namespaces/audit/configmaps/cm2", token: "admin-token",
		body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm2","namespace":"audit"},"data":{"x":"y"}}`, code: 404},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps?labelSelector=a%3Db", token: "admin-token", code: 200},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps/cm", token: "admin-token",
		header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}, code: 200},
	{method: "PUT", path: "/api/v1/namespaces/audit", token: "admin-token",
		body: `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"audit","labels":{"team":"x"}}}`, code: 200},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps/cm", token: "alice-token", code: 403},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps/cm", token: "admin-token", header: map[string]string{"Impersonate-User": "alice"}, code: 403},
	{method: "GET", path: "/api/v1/namespaces/audit/configmaps?watch=true&timeoutSeconds=1", token: "admin-token", code: 200},
	{method: "GET", path: "/api/v1/namespaces/audit/pods", token: "bogus", code: 401},
	{method: "GET", path: "/version", token: "admin-token", code: 200},
	{method: "GET", path: "/apis/apps/v1/namespaces/audit/deployments", token: "admin-token", code: 200},
	{method: "DELETE", path: "/api/v1/namespaces/audit/configmaps/cm", token: "admin-token", contentType: "application/json",
		body: `{"propagationPolicy":"Background"}`, code: 200},
	{method: "DELETE", path: "/api/v1/namespaces/audit", token: "admin-token", code: 200},
}

func (s step) send(t *testing.T, tg target, ua string) int {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, _ := http.NewRequest(s.method, tg.url+s.path, body)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/json")
	if s.body != "" {
		ct := s.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", tg.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// byAgent reads a log's events, normalized, by user agent.
func byAgent(t *testing.T, path string) map[string][]map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var ev auditv1.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		if !strings.HasPrefix(ev.UserAgent, "audit-oracle/") {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m)
		normalize(m)
		out[ev.UserAgent] = append(out[ev.UserAgent], m)
	}
	return out
}

// normalize drops what differs between two servers by nature: IDs,
// times, generated values.
func normalize(m map[string]any) {
	for _, k := range []string{"auditID", "requestReceivedTimestamp", "stageTimestamp", "sourceIPs"} {
		delete(m, k)
	}
	if ref, ok := m["objectRef"].(map[string]any); ok {
		delete(ref, "uid")
		delete(ref, "resourceVersion")
	}
	if u, ok := m["user"].(map[string]any); ok {
		delete(u, "extra")
	}
	for _, k := range []string{"requestObject", "responseObject"} {
		if o, ok := m[k].(map[string]any); ok {
			dropVolatile(o)
		}
	}
	normalizeStatus(m)
}

func dropVolatile(o map[string]any) {
	if md, ok := o["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"} {
			delete(md, k)
		}
	}
	if items, ok := o["items"].([]any); ok {
		for _, it := range items {
			if im, ok := it.(map[string]any); ok {
				dropVolatile(im)
			}
		}
	}
	if d, ok := o["details"].(map[string]any); ok {
		delete(d, "uid")
	}
	if rows, ok := o["rows"].([]any); ok { // a Table: its objects, not its cells (an age)
		for _, r := range rows {
			if rm, ok := r.(map[string]any); ok {
				delete(rm, "cells")
				if obj, ok := rm["object"].(map[string]any); ok {
					dropVolatile(obj)
				}
			}
		}
	}
}

// normalizeStatus drops a status's uid (of the object deleted).
func normalizeStatus(m map[string]any) {
	if st, ok := m["responseStatus"].(map[string]any); ok {
		if d, ok := st["details"].(map[string]any); ok {
			delete(d, "uid")
		}
	}
}

// diff lists the fields where two event lists differ.
func diff(want, got []map[string]any) string {
	var b strings.Builder
	for i := range max(len(want), len(got)) {
		w, g := map[string]string{}, map[string]string{}
		if i < len(want) {
			flatten("", want[i], w)
		}
		if i < len(got) {
			flatten("", got[i], g)
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := slices.Sorted(maps.Keys(keys))
		for _, k := range sorted {
			if w[k] != g[k] {
				fmt.Fprintf(&b, "  event %d %s: kube-apiserver %s, regis %s\n", i, k, orNone(w[k]), orNone(g[k]))
			}
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			flatten(prefix+"."+k, x, out)
		}
	case []any:
		for i, x := range v {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), x, out)
		}
	default:
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
}

func startRegis(t *testing.T, ctx context.Context, dir string) target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir, o.EtcdUnsafeNoFsync, o.EtcdCompactionInterval = filepath.Join(dir, "regis"), true, 0
	o.Logger = slog.New(slog.DiscardHandler)
	o.TokenAuthFile = filepath.Join(dir, "tokens.csv")
	o.DisableAdmissionPlugins = []string{"ServiceAccount"}
	o.Audit.PolicyFile, o.Audit.LogPath = filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "regis-audit.log")
	ready := make(chan server.Info, 1)
	o.Listener, o.Ready = ln, func(i server.Info) { ready <- i }
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- server.Run(rctx, o) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case info := <-ready:
		return target{name: "regis", url: info.URL, log: o.Audit.LogPath}
	case err := <-done:
		t.Fatalf("regis: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("regis not ready")
	}
	return target{}
}

func startOracle(t *testing.T, ctx context.Context, dir string) target {
	t.Helper()
	bin := os.Getenv("ORACLE_KUBE_APISERVER")
	if bin == "" {
		bin, _ = filepath.Abs("../../bin/oracle/kube-apiserver")
	}
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saKey := filepath.Join(dir, "sa.key")
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logPath := filepath.Join(dir, "oracle-audit.log")
	cmd := exec.CommandContext(ctx, bin,
		"--etcd-servers="+e.Endpoint,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=Node,RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--audit-policy-file="+filepath.Join(dir, "policy.yaml"),
		"--audit-log-path="+logPath,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer admin-token")
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			t.Fatal("kube-apiserver exited; see its log in " + out.Name())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("kube-apiserver not ready")
		}
		time.Sleep(250 * time.Millisecond)
	}
	return target{name: "kube-apiserver", url: url, log: logPath}
}
