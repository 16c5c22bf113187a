package audit_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/audit"
)

// hook is a TLS audit webhook recording the EventLists it receives; it
// answers 500 to the first failFirst calls.
type hook struct {
	srv       *httptest.Server
	mu        sync.Mutex
	lists     [][]auditv1.Event
	calls     atomic.Int32
	failFirst int32
}

func startHook(t *testing.T, failFirst int32) (*hook, string) {
	h := &hook{failFirst: failFirst}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := h.calls.Add(1); n <= h.failFirst {
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var list struct {
			Kind, APIVersion string
			Items            []auditv1.Event
		}
		if err := json.Unmarshal(body, &list); err != nil || list.Kind != "EventList" || list.APIVersion != "audit.k8s.io/v1" ||
			r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer secret-token" {
			t.Errorf("webhook got %s (%v)", body, err)
		}
		h.mu.Lock()
		h.lists = append(h.lists, list.Items)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})
	kubeconfig := filepath.Join(t.TempDir(), "webhook.kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: hook\n  cluster:\n    server: " + h.srv.URL + "/audit\n" +
		"    certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "\ncontexts:\n- name: hook\n  context: {cluster: hook, user: hook}\n" +
		"users:\n- name: hook\n  user: {token: secret-token}\ncurrent-context: hook\n"
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return h, kubeconfig
}

func (h *hook) sizes() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, l := range h.lists {
		out = append(out, len(l))
	}
	return out
}

func line(id string) []byte {
	b, _ := json.Marshal(auditv1.Event{Level: auditv1.LevelMetadata, AuditID: types.UID("id-" + id), Stage: auditv1.StageResponseComplete})
	return append(b, '\n')
}

// TestWebhookBlocking: each event is one call, made before Write returns;
// a failing call is retried with the backoff.
func TestWebhookBlocking(t *testing.T) {
	h, kubeconfig := startHook(t, 2)
	w, err := audit.OpenWebhook(audit.WebhookConfig{ConfigFile: kubeconfig, Mode: audit.ModeBlocking, InitialBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := w.Write(line(id)); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.sizes(); len(got) != 2 || got[0] != 1 || got[1] != 1 || h.calls.Load() != 4 {
		t.Errorf("lists %v after %d calls, want [1 1] after 4", got, h.calls.Load())
	}
}

// TestWebhookBatch: events are sent in calls of at most MaxSize, each
// after at most MaxWait; the queue is drained when the backend stops.
func TestWebhookBatch(t *testing.T) {
	h, kubeconfig := startHook(t, 0)
	w, err := audit.OpenWebhook(audit.WebhookConfig{ConfigFile: kubeconfig, Mode: audit.ModeBatch, InitialBackoff: 10 * time.Millisecond,
		BufferSize: 100, MaxSize: 3, MaxWait: 200 * time.Millisecond, Throttle: true, QPS: 100, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		if err := w.Write(line(id)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.sizes()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.sizes(); len(got) != 2 || got[0] != 3 || got[1] != 2 {
		t.Errorf("batches %v, want [3 2]", got)
	}
	if err := w.Write(line("6")); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if got := h.sizes(); len(got) != 3 || got[2] != 1 {
		t.Errorf("after the stop: batches %v, want the last event sent", got)
	}
}

// TestWebhookConfigRefused: upstream's messages for bad options.
func TestWebhookConfigRefused(t *testing.T) {
	for c, want := range map[audit.WebhookConfig]string{
		{Mode: "sometimes"}:                                         `invalid audit webhook mode sometimes, allowed modes are "batch,blocking,blocking-strict"`,
		{Mode: audit.ModeBatch, MaxSize: 1}:                         "invalid audit batch webhook buffer size 0, must be a positive number",
		{Mode: audit.ModeBatch, BufferSize: 1}:                      "invalid audit batch webhook max batch size 0, must be a positive number",
		{Mode: audit.ModeBlocking, Version: "audit.k8s.io/v1beta1"}: `invalid group version, allowed versions are ["audit.k8s.io/v1"]`,
	} {
		if err := audit.ValidateWebhookConfig(c); err == nil || err.Error() != want {
			t.Errorf("%+v: %v, want %s", c, err, want)
		}
	}
}
