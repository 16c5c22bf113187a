package join_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/etcd/join"
	"github.com/regis-dev/regis/internal/pki"
)

func TestJoin(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cl := etcdtest.New(t).Client(t)
	ca, err := pki.NewCA("test-etcd-ca", pki.CAValidity)
	if err != nil {
		t.Fatal(err)
	}
	s := &join.Server{CA: ca, Cluster: cl.Cluster, Logger: slog.New(slog.DiscardHandler),
		Shared: func() (map[string][]byte, error) {
			return map[string][]byte{"ca.key": []byte("the CA"), "sa.key": []byte("the SA key"), "../evil": []byte("x")}, nil
		}}
	hs := httptest.NewUnstartedServer(s.Wrap(http.NotFoundHandler()))
	hs.StartTLS()
	defer hs.Close()
	tok, err := join.EnsureTokenFile(filepath.Join(t.TempDir(), "join-token"), join.KeyHash(hs.Certificate().RawSubjectPublicKeyInfo))
	if err != nil {
		t.Fatal(err)
	}
	s.Token = tok
	req := func(tok join.Token, name, peer string) join.Request {
		return join.Request{URL: hs.URL, Token: tok, Name: name, PeerURL: peer, ClientURL: strings.Replace(peer, ":2380", ":2379", 1), PKIDir: filepath.Join(t.TempDir(), "pki")}
	}

	bad := tok
	bad.Secret = strings.Repeat("0", len(tok.Secret))
	if _, err := join.Join(ctx, req(bad, "m2", "https://10.1.2.3:2380")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong secret: %v, want 401", err)
	}
	wrongPin := tok
	wrongPin.KeyHash[0] ^= 1
	if _, err := join.Join(ctx, req(wrongPin, "m2", "https://10.1.2.3:2380")); err == nil || !strings.Contains(err.Error(), "does not match the join token") {
		t.Errorf("a server not pinned: %v", err)
	}
	if _, err := join.Join(ctx, req(tok, "M 2", "https://10.1.2.3:2380")); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a bad name: %v, want 400", err)
	}

	r := req(tok, "m2", "https://10.1.2.3:2380")
	// The shared files asked for and missing are written; one already
	// there is kept; names with a path are never written.
	r.SharedDir, r.SharedNames = t.TempDir(), []string{"ca.key", "sa.key", "../evil"}
	if err := os.WriteFile(filepath.Join(r.SharedDir, "sa.key"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	joined, err := join.Join(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(joined.Shared, joined.Kept) != "[ca.key] [sa.key]" {
		t.Errorf("shared %v, kept %v", joined.Shared, joined.Kept)
	}
	for name, want := range map[string]string{"ca.key": "the CA", "sa.key": "mine"} {
		if got, err := os.ReadFile(filepath.Join(r.SharedDir, name)); err != nil || string(got) != want {
			t.Errorf("%s: %q %v, want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.SharedDir), "evil")); err == nil {
		t.Error("a shared name with a path was written outside the directory")
	}
	if !strings.Contains(joined.InitialCluster, "m2=https://10.1.2.3:2380") {
		t.Errorf("initial cluster %q", joined.InitialCluster)
	}
	p := etcd.PKI{Dir: r.PKIDir}
	if _, err := p.ClientTLS(); err != nil {
		t.Fatalf("the joiner's PKI: %v", err)
	}
	cert, err := pki.ReadCert(filepath.Join(r.PKIDir, etcd.PKIPeerCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("10.1.2.3"); err != nil {
		t.Error(err)
	}
	if err := ca.Verify(cert, x509.ExtKeyUsageServerAuth, time.Now()); err != nil {
		t.Error(err)
	}
	list, err := cl.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var learner bool
	for _, m := range list.Members {
		learner = learner || m.ID == joined.MemberID && m.IsLearner
	}
	if !learner {
		t.Errorf("no learner %x in %v", joined.MemberID, list.Members)
	}
	// The same joiner again (a retry) gets the same member; another one
	// waits until the first has started.
	again, err := join.Join(ctx, r)
	if err != nil || again.MemberID != joined.MemberID {
		t.Errorf("a retry: %v %v", again, err)
	}
	if _, err := join.Join(ctx, req(tok, "m3", "https://10.1.2.4:2380")); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("a second joiner meanwhile: %v, want 409", err)
	}
}

func TestParseToken(t *testing.T) {
	for _, bad := range []string{"", "R10", "R10abc::" + strings.Repeat("a", 64), "X10" + strings.Repeat("0", 64) + "::" + strings.Repeat("a", 64), "R10" + strings.Repeat("0", 64) + "::short"} {
		if _, err := join.ParseToken(bad); err == nil {
			t.Errorf("%q parsed", bad)
		} else if strings.Contains(err.Error(), "aaaa") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}
