package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/pki"
	"github.com/regis-dev/regis/internal/server"
)

// full is a whole regis (embedded etcd, API over HTTPS) in a temporary
// directory.
type full struct {
	info server.Info
	dir  string
	stop context.CancelFunc
	done chan error // Run's result
}

func startFull(t *testing.T, edit func(*server.Options)) *full {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir, o.EtcdUnsafeNoFsync, o.EtcdCompactionInterval = dir, true, 0
	o.Logger = slog.New(slog.DiscardHandler)
	ready := make(chan server.Info, 1)
	o.Listener, o.Ready = ln, func(i server.Info) { ready <- i }
	if edit != nil {
		edit(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &full{dir: dir, stop: cancel, done: make(chan error, 1)}
	go func() { f.done <- server.Run(ctx, o) }()
	select {
	case f.info = <-ready:
	case err := <-f.done:
		t.Fatalf("server stopped while starting: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server not ready in 60s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-f.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop in 30s")
		}
	})
	return f
}

// tlsConfig trusts the server's CA and presents cert (none when nil).
func (f *full) tlsConfig(t *testing.T, cert *tls.Certificate) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(f.info.CAData) {
		t.Fatal("no CA")
	}
	c := &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

func (f *full) admin(t *testing.T) *tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair(f.info.ClientCertData, f.info.ClientKeyData)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// Issue 8, defect 7: a certificate of the server's own CA with an empty
// common name names no user: the request is anonymous, which RBAC
// refuses (403), as upstream with its default --anonymous-auth.
func TestEmptyCommonNameIsUnauthorized(t *testing.T) {
	f := startFull(t, nil)
	cert := emptyCNCert(t, f)
	for _, c := range []struct {
		name string
		cert *tls.Certificate
		want int
	}{{"empty CN", cert, http.StatusForbidden}, {"admin", f.admin(t), http.StatusOK}} {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.tlsConfig(t, c.cert)}}
		resp, err := hc.Get(f.info.URL + "/api/v1/namespaces")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
		hc.CloseIdleConnections()
	}
}

// trickle opens a connection that sends a request's headers and then its
// body a byte every interval, until the connection is closed. It returns
// the connection, from which the response can be read.
func trickle(t *testing.T, f *full, path string, interval time.Duration) net.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(f.info.URL, "https://"), f.tlsConfig(t, f.admin(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: regis\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", path)
	go func() { // ends when the connection is closed
		for {
			time.Sleep(interval)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	return conn
}

// Issue 8, defect 4: a body trickled a byte at a time ends with the
// request's timeout (504), not never.
func TestSlowBodyTimesOut(t *testing.T) {
	f := startFull(t, nil)
	conn := trickle(t, f, "/api/v1/namespaces/default/configmaps?timeout=2s", 300*time.Millisecond)
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d (%s), want 504", resp.StatusCode, body)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("answered after %v", took)
	}
}

// Issue 8, defect 4: a stalled upload and an idle kept-alive connection do
// not hold a shutdown past its grace period, and the shutdown is a clean
// one (Run returns nil, so `regis serve` exits 0).
func TestShutdownWithStalledClients(t *testing.T) {
	f := startFull(t, func(o *server.Options) { o.ShutdownGracePeriod = time.Second })
	trickle(t, f, "/api/v1/namespaces/default/configmaps", time.Second)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.tlsConfig(t, f.admin(t))}}
	resp, err := hc.Get(f.info.URL + "/version") // leaves an idle kept-alive connection
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	time.Sleep(200 * time.Millisecond) // the upload has started
	start := time.Now()
	f.stop()
	select {
	case err := <-f.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		f.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown still waiting after 10s")
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Fatalf("shutdown took %v with a 1s grace", took)
	}
}

// emptyCNCert is a client certificate of the server's CA with no
// common name.
func emptyCNCert(t *testing.T, f *full) *tls.Certificate {
	t.Helper()
	ca, err := pki.LoadCA(filepath.Join(f.dir, "pki", pki.CAFile), filepath.Join(f.dir, "pki", pki.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	der, key, err := ca.Issue(&x509.Certificate{Subject: pkix.Name{Organization: []string{"system:masters"}},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return &cert
}
