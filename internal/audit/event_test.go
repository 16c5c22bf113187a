package audit_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
	"github.com/regis-dev/regis/internal/audit"
	"github.com/regis-dev/regis/internal/authz"
)

type lines struct {
	evs  []auditv1.Event
	fail bool
}

func (l *lines) Write(line []byte) error {
	if l.fail {
		return errors.New("disk full")
	}
	var ev auditv1.Event
	if err := json.Unmarshal(line, &ev); err != nil {
		return err
	}
	l.evs = append(l.evs, ev)
	return nil
}

func encodeJSON(obj runtime.Object, _ schema.GroupVersion) ([]byte, error) { return json.Marshal(obj) }

func newAuditor(t *testing.T, policy string, sink audit.Sink, strict bool) *audit.Auditor {
	t.Helper()
	p, err := audit.LoadPolicy([]byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.New(audit.Config{Policy: p, Sink: sink, Strict: strict})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSensitiveNeverLogged: at level RequestResponse, a secret's event
// is at level Metadata and carries no object; a configmap's carries both.
func TestSensitiveNeverLogged(t *testing.T) {
	sink := &lines{}
	a := newAuditor(t, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n", sink, false)
	for _, resource := range []string{"secrets", "configmaps"} {
		req := httptest.NewRequest("POST", "/api/v1/namespaces/ns/"+resource, nil)
		r := a.Begin("", time.Now())
		attrs := &authz.Attributes{User: &authz.User{Name: "u"}, Verb: "create", ResourceRequest: true, APIVersion: "v1", Resource: resource, Namespace: "ns"}
		if err := r.Start(req, attrs, false); err != nil {
			t.Fatal(err)
		}
		obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns"}, Data: map[string][]byte{"k": []byte("v")}}
		r.RequestObject(obj, corev1.SchemeGroupVersion, encodeJSON)
		r.Started(201)
		r.ResponseObject(obj, corev1.SchemeGroupVersion, encodeJSON)
		r.Complete()
	}
	if len(sink.evs) != 4 {
		t.Fatalf("%d events", len(sink.evs))
	}
	for _, ev := range sink.evs {
		secret := ev.ObjectRef.Resource == "secrets"
		if secret && (ev.Level != auditv1.LevelMetadata || ev.RequestObject != nil || ev.ResponseObject != nil) {
			t.Errorf("secret's event %+v", ev)
		}
		if !secret && ev.Stage == auditv1.StageResponseComplete && (ev.Level != auditv1.LevelRequestResponse || ev.RequestObject == nil || ev.ResponseObject == nil) {
			t.Errorf("configmap's event %+v", ev)
		}
		if ev.Stage == auditv1.StageResponseComplete && ev.ObjectRef.Name != "x" {
			t.Errorf("objectRef %+v: the request object names it", ev.ObjectRef)
		}
	}
}

// TestStrict: in blocking-strict mode a RequestReceived not stored fails
// the request; in blocking mode it does not.
func TestStrict(t *testing.T) {
	for _, strict := range []bool{false, true} {
		a := newAuditor(t, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n", &lines{fail: true}, strict)
		r := a.Begin("id", time.Now())
		err := r.Start(httptest.NewRequest("GET", "/version", nil), &authz.Attributes{Verb: "get", Path: "/version"}, false)
		if (err != nil) != strict {
			t.Errorf("strict %v: %v", strict, err)
		}
	}
}

// TestPanicAndEarlyClose: a panic writes the Panic stage with upstream's
// status; a long-running request that never answered gets upstream's
// "Connection closed early" ResponseStarted and ResponseComplete.
func TestPanicAndEarlyClose(t *testing.T) {
	sink := &lines{}
	a := newAuditor(t, "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n", sink, false)
	attrs := &authz.Attributes{Verb: "get", Path: "/x"}
	r := a.Begin("p", time.Now())
	_ = r.Start(httptest.NewRequest("GET", "/x", nil), attrs, false)
	r.Panicked("boom")
	r.Complete()
	w := a.Begin("w", time.Now())
	_ = w.Start(httptest.NewRequest("GET", "/x", nil), attrs, true)
	w.Complete()
	if len(sink.evs) != 3 {
		t.Fatalf("%d events", len(sink.evs))
	}
	if ev := sink.evs[0]; ev.Stage != auditv1.StagePanic || ev.ResponseStatus.Code != 500 || ev.ResponseStatus.Message != "APIServer panic'd: boom" {
		t.Errorf("panic event %+v", ev)
	}
	for i, stage := range []auditv1.Stage{auditv1.StageResponseStarted, auditv1.StageResponseComplete} {
		if ev := sink.evs[1+i]; ev.Stage != stage || ev.ResponseStatus.Code != 200 || ev.ResponseStatus.Message != "Connection closed early" {
			t.Errorf("event %d %+v", i, ev)
		}
	}
}
