package audit_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/audit"
	"github.com/regis-dev/regis/internal/authz"
)

type discard struct{}

func (discard) Write([]byte) error { return nil }

// BenchmarkRequestMetadata: the audit of one GET at level Metadata
// (policy evaluation, RequestReceived and ResponseComplete encoded),
// without the write.
func BenchmarkRequestMetadata(b *testing.B) {
	p, err := audit.LoadPolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [system:apiserver]\n- level: Metadata\n"))
	if err != nil {
		b.Fatal(err)
	}
	a, err := audit.New(audit.Config{Policy: p, Sink: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/configmaps/g", nil)
	req.Header.Set("User-Agent", "bench/v1.37.2 (linux/amd64) kubernetes/abcdef")
	attrs := &authz.Attributes{User: &authz.User{Name: "admin", Groups: []string{"system:masters", "system:authenticated"}},
		Verb: "get", ResourceRequest: true, APIVersion: "v1", Resource: "configmaps", Namespace: "default", Name: "g"}
	b.ReportAllocs()
	for b.Loop() {
		r := a.Begin("", time.Now())
		_ = r.Start(req, attrs, false)
		r.Authorized(true, "")
		r.Started(200)
		r.Complete()
	}
}
