package server_test

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/server"
)

// TestAuditWebhook: with --audit-webhook-config-file (batch mode, as
// upstream's default) a request's events reach the webhook as EventLists.
func TestAuditWebhook(t *testing.T) {
	var mu sync.Mutex
	var events []auditv1.Event
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var list struct{ Items []auditv1.Event }
		_ = json.Unmarshal(body, &list)
		mu.Lock()
		events = append(events, list.Items...)
		mu.Unlock()
	}))
	defer hook.Close()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw})
	kubeconfig := filepath.Join(dir, "hook.kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: h\n  cluster:\n    server: "+hook.URL+
		"\n    certificate-authority-data: "+base64.StdEncoding.EncodeToString(ca)+
		"\ncontexts:\n- name: h\n  context: {cluster: h, user: h}\nusers:\n- name: h\n  user: {}\ncurrent-context: h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  resources: [{group: \"\", resources: [configmaps]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFull(t, func(o *server.Options) {
		o.Audit = server.DefaultAuditOptions()
		o.Audit.PolicyFile, o.Audit.Webhook.ConfigFile = policy, kubeconfig
		o.Audit.Webhook.MaxWait = 100 * time.Millisecond
	})
	cs := kubernetes.NewForConfigOrDie(&rest.Config{Host: f.info.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: f.info.CAData, CertData: f.info.ClientCertData, KeyData: f.info.ClientKeyData}})
	if _, err := cs.CoreV1().ConfigMaps("default").List(t.Context(), metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		var stages []auditv1.Stage
		for _, ev := range events {
			if ev.ObjectRef != nil && ev.ObjectRef.Resource == "configmaps" && ev.Verb == "list" {
				stages = append(stages, ev.Stage)
			}
		}
		mu.Unlock()
		if len(stages) == 2 && stages[0] == auditv1.StageRequestReceived && stages[1] == auditv1.StageResponseComplete {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events of the list at the webhook: %v", stages)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
