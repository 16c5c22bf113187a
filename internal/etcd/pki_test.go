package etcd_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/pki"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

var pkiKeys = []string{etcd.PKICAKeyFile, etcd.PKIServerKeyFile, etcd.PKIPeerKeyFile, etcd.PKIClientKeyFile}
var pkiCerts = []string{etcd.PKICAFile, etcd.PKIServerCertFile, etcd.PKIPeerCertFile, etcd.PKIClientCertFile}

// TestEnsurePKI: the first call writes a CA and three certificates with
// private modes; later calls reuse every file; the serving certificates
// name the loopback addresses and are client certificates too.
func TestEnsurePKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "pki", "etcd")
	p, err := etcd.EnsurePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Generated) != 8 {
		t.Errorf("generated %v, want 8 files", p.Generated)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("%s: mode %o, want 700", dir, m)
	}
	for _, k := range pkiKeys {
		if m := mode(t, filepath.Join(dir, k)); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", k, m)
		}
	}
	for _, c := range pkiCerts {
		if m := mode(t, filepath.Join(dir, c)); m != 0o644 {
			t.Errorf("%s: mode %o, want 644", c, m)
		}
	}
	ca, err := pki.LoadCA(p.CAFile(), filepath.Join(dir, etcd.PKICAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if ca.Cert.NotAfter.Before(time.Now().Add(9 * 365 * 24 * time.Hour)) {
		t.Errorf("CA valid until %v only", ca.Cert.NotAfter)
	}
	for _, name := range []string{etcd.PKIServerCertFile, etcd.PKIPeerCertFile} {
		c, err := pki.ReadCert(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
			t.Errorf("%s: key %v, want ECDSA P-256", name, c.PublicKeyAlgorithm)
		}
		for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
			if err := c.VerifyHostname(h); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if err := ca.Verify(c, u, time.Now().Add(300*24*time.Hour)); err != nil {
				t.Errorf("%s for %v: %v", name, u, err)
			}
		}
	}
	client, err := pki.ReadCert(p.ClientCertFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(client, x509.ExtKeyUsageClientAuth, time.Now()); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if err := ca.Verify(client, x509.ExtKeyUsageServerAuth, time.Now()); err == nil {
		t.Error("the client certificate serves too")
	}

	before := map[string][]byte{}
	for _, f := range append(slices.Clone(pkiCerts), pkiKeys...) {
		before[f] = readFile(t, filepath.Join(dir, f))
	}
	p2, err := etcd.EnsurePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Generated) != 0 {
		t.Errorf("second call generated %v", p2.Generated)
	}
	for f, b := range before {
		if !bytes.Equal(b, readFile(t, filepath.Join(dir, f))) {
			t.Errorf("%s changed", f)
		}
	}
}

// TestEnsurePKIRepairs: a missing, expiring or foreign certificate is
// reissued by the same CA; modes that let others read are tightened; a
// CA with a file missing is never replaced.
func TestEnsurePKIRepairs(t *testing.T) {
	dir := t.TempDir()
	p, err := etcd.EnsurePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := readFile(t, p.CAFile())
	ca, err := pki.LoadCA(p.CAFile(), filepath.Join(dir, etcd.PKICAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	clientPEM := readFile(t, p.ClientCertFile())

	// The serving certificate expires in a day; the peer one is gone; the
	// client key was made readable by all; the directory too.
	soon := &x509.Certificate{Subject: pkix.Name{CommonName: "soon"}, NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	if err := ca.IssueFiles(soon, filepath.Join(dir, etcd.PKIServerCertFile), filepath.Join(dir, etcd.PKIServerKeyFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, etcd.PKIPeerCertFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p.ClientKeyFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err = etcd.EnsurePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{etcd.PKIServerCertFile, etcd.PKIServerKeyFile, etcd.PKIPeerCertFile, etcd.PKIPeerKeyFile}
	if !slices.Equal(p.Generated, want) {
		t.Errorf("generated %v, want %v", p.Generated, want)
	}
	if !bytes.Equal(caPEM, readFile(t, p.CAFile())) || !bytes.Equal(clientPEM, readFile(t, p.ClientCertFile())) {
		t.Error("the CA or the valid client certificate was replaced")
	}
	server, err := pki.ReadCert(filepath.Join(dir, etcd.PKIServerCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(server, x509.ExtKeyUsageServerAuth, time.Now().Add(300*24*time.Hour)); err != nil {
		t.Errorf("reissued serving certificate: %v", err)
	}
	if m := mode(t, p.ClientKeyFile()); m != 0o600 {
		t.Errorf("client key: mode %o after repair, want 600", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("directory: mode %o after repair, want 700", m)
	}

	// A certificate of another CA is replaced by one of this CA.
	other, err := pki.NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.IssueFiles(&x509.Certificate{Subject: pkix.Name{CommonName: "x"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		p.ClientCertFile(), p.ClientKeyFile()); err != nil {
		t.Fatal(err)
	}
	if p, err = etcd.EnsurePKI(dir); err != nil || !slices.Equal(p.Generated, []string{etcd.PKIClientCertFile, etcd.PKIClientKeyFile}) {
		t.Errorf("foreign client certificate: generated %v, %v", p.Generated, err)
	}

	// Half a CA: refused, and the remaining file is left alone.
	if err := os.Remove(filepath.Join(dir, etcd.PKICAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.EnsurePKI(dir); err == nil || !strings.Contains(err.Error(), "CA is incomplete") {
		t.Errorf("EnsurePKI with no CA key: %v", err)
	}
	if !bytes.Equal(caPEM, readFile(t, p.CAFile())) {
		t.Error("the CA certificate was replaced")
	}
}

// TestEmbeddedMutualTLS: an embedded etcd secured with a PKI serves
// clients and peers over https on loopback, and accepts only clients
// whose certificate its CA signed.
func TestEmbeddedMutualTLS(t *testing.T) {
	dir := t.TempDir()
	p, err := etcd.EnsurePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "data"), UnsafeNoFsync: true}
	p.Apply(&cfg)
	srv, err := etcd.StartEmbedded(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.Endpoint, "https://127.0.0.1:") {
		t.Errorf("endpoint %s", srv.Endpoint)
	}
	tlsCfg, err := p.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	c, err := etcd.NewClient([]string{srv.Endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	members, err := c.MemberList(t.Context())
	if err != nil {
		t.Fatalf("member list with the client certificate: %v", err)
	}
	peer := members.Members[0].PeerURLs[0]
	if !strings.HasPrefix(peer, "https://127.0.0.1:") {
		t.Fatalf("peer URL %s", peer)
	}

	// The peer port wants a certificate of the CA too.
	refused := func(name string, cfg *tls.Config) {
		t.Helper()
		conn, err := tls.Dial("tcp", strings.TrimPrefix(peer, "https://"), cfg)
		if err != nil {
			t.Logf("%s: %v", name, err)
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("GET /members HTTP/1.1\r\nHost: x\r\n\r\n"))
		buf := make([]byte, 512)
		if n, err := conn.Read(buf); err == nil {
			t.Errorf("peer port answered %s: %q", name, buf[:n])
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	noCert := tlsCfg.Clone()
	noCert.Certificates = nil
	refused("a client without a certificate", noCert)
	other, err := pki.NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	der, key, err := other.Issue(&x509.Certificate{Subject: pkix.Name{CommonName: "x"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	foreign := tlsCfg.Clone()
	foreign.Certificates = nil
	// Sent even though the server names the CAs it accepts.
	foreign.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}
	refused("a certificate of another CA", foreign)

	peerOK := tlsCfg.Clone()
	peerPair, err := tls.LoadX509KeyPair(filepath.Join(p.Dir, etcd.PKIPeerCertFile), filepath.Join(p.Dir, etcd.PKIPeerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	peerOK.Certificates = []tls.Certificate{peerPair}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(peer, "https://"), peerOK)
	if err != nil {
		t.Fatalf("peer port with the peer certificate: %v", err)
	}
	conn.Close()

	// A client certificate of another CA is refused on the client port.
	c2, err := etcd.NewClient([]string{srv.Endpoint}, etcd.WithTLS(foreign), etcd.WithDialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := c2.Get(ctx, "/"); err == nil {
		t.Error("get with a certificate of another CA succeeded")
	}
}

// TestStartEmbeddedFixedPorts: given URLs are used as they are.
func TestStartEmbeddedFixedPorts(t *testing.T) {
	dir := t.TempDir()
	p, err := etcd.EnsurePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	var srv *etcd.Embedded
	for range 3 { // a free port can be taken between pick and bind
		client, peer := freePort(t), freePort(t)
		cfg := etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "data"), UnsafeNoFsync: true,
			ClientURL: "https://" + client, PeerURL: "https://" + peer}
		p.Apply(&cfg)
		if srv, err = etcd.StartEmbedded(t.Context(), cfg); err == nil {
			if srv.Endpoint != "https://"+client {
				t.Errorf("endpoint %s, want https://%s", srv.Endpoint, client)
			}
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestEmbeddedLocalSocket: a member given a local socket serves gRPC on it
// without TLS, and keeps serving its https URL as before: gRPC with a
// client certificate, and HTTP (the /version a doctor reads clocks from).
func TestEmbeddedLocalSocket(t *testing.T) {
	dir := t.TempDir()
	p, err := etcd.EnsurePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(p.Dir, "client.sock")
	cfg := etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "data"), UnsafeNoFsync: true, LocalSocket: sock}
	p.Apply(&cfg)
	srv, err := etcd.StartEmbedded(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if srv.LocalEndpoint != "unix://"+sock {
		t.Fatalf("local endpoint %q, want unix://%s", srv.LocalEndpoint, sock)
	}
	local, err := etcd.NewClient([]string{srv.LocalEndpoint})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if _, err := local.Put(t.Context(), "/registry/k", "v"); err != nil {
		t.Fatalf("put over the socket: %v", err)
	}

	tlsCfg, err := p.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	remote, err := etcd.NewClient([]string{srv.Endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	if resp, err := remote.Get(t.Context(), "/registry/k"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get over https: %v %v", resp, err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	resp, err := hc.Get(srv.Endpoint + "/version")
	if err != nil {
		t.Fatalf("/version over https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Date") == "" {
		t.Fatalf("/version: %d, Date %q", resp.StatusCode, resp.Header.Get("Date"))
	}
	srv.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket outlives the member: %v", err)
	}

	// A path longer than a socket address holds: no socket, https only.
	long := etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "data2"), UnsafeNoFsync: true,
		LocalSocket: filepath.Join(p.Dir, strings.Repeat("s", 120))}
	p.Apply(&long)
	srv2, err := etcd.StartEmbedded(t.Context(), long)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if srv2.LocalEndpoint != "" {
		t.Errorf("local endpoint %q for an over-long path", srv2.LocalEndpoint)
	}
}
