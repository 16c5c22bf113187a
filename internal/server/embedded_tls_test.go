package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

func startBackend(t *testing.T, opts server.Options) *server.Backend {
	t.Helper()
	opts.Logger = testLogger(t)
	b, err := server.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return b
}

// refused reports whether a read with c fails within a short time.
func refused(t *testing.T, c *clientv3.Client, key string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, key)
	if err == nil {
		t.Errorf("read %s: %d values", key, len(resp.Kvs))
	}
	return err
}

// TestEmbeddedEtcdIsNotOpen is the regression test of "the embedded etcd
// is open to every local user": the server's embedded etcd serves only
// clients presenting the client certificate of the data directory's PKI,
// whose private keys and directory are the owner's only, and a restart
// reuses that PKI.
func TestEmbeddedEtcdIsNotOpen(t *testing.T) {
	opts := server.DefaultOptions()
	opts.DataDir = filepath.Join(t.TempDir(), "regis-data")
	opts.EtcdUnsafeNoFsync = true
	opts.EtcdCompactionInterval = 0
	b := startBackend(t, opts)
	defer b.Close()
	const key, secret = "/registry/secrets/default/db", "k8s\x00password"
	if _, err := b.Client.Put(t.Context(), key, secret); err != nil {
		t.Fatal(err)
	}
	endpoint := b.Embedded.Endpoint
	host, ok := strings.CutPrefix(endpoint, "https://127.0.0.1:")
	if !ok {
		t.Fatalf("endpoint %s: want https on 127.0.0.1", endpoint)
	}
	pkiDir := server.EmbeddedEtcdPKIDir(opts.DataDir)
	p := etcd.PKI{Dir: pkiDir}
	addr := "127.0.0.1:" + host

	// (a) Plain HTTP: neither gRPC nor the JSON gateway answers.
	plain, err := etcd.NewClient([]string{"http://" + addr}, etcd.WithDialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	t.Logf("plaintext gRPC: %v", refused(t, plain, key))
	hc := &http.Client{Timeout: 2 * time.Second}
	body := `{"key":"` + base64.StdEncoding.EncodeToString([]byte(key)) + `"}`
	if resp, err := hc.Post("http://"+addr+"/v3/kv/range", "application/json", strings.NewReader(body)); err == nil {
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || bytes.Contains(got, []byte(base64.StdEncoding.EncodeToString([]byte(secret)))) {
			t.Errorf("plain HTTP range: %s %q", resp.Status, got)
		}
		t.Logf("plain HTTP range: %s %q", resp.Status, got)
	} else {
		t.Logf("plain HTTP range: %v", err)
	}

	// (b) TLS without a client certificate (trusting the right CA): refused.
	tlsCfg, err := p.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	noCert := tlsCfg.Clone()
	noCert.Certificates = nil
	anon, err := etcd.NewClient([]string{endpoint}, etcd.WithTLS(noCert), etcd.WithDialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	t.Logf("TLS without a client certificate: %v", refused(t, anon, key))
	conn, err := tls.Dial("tcp", addr, noCert)
	if err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("GET /version HTTP/1.1\r\nHost: x\r\n\r\n"))
		if n, err := conn.Read(make([]byte, 256)); err == nil {
			t.Errorf("TLS without a client certificate: %d bytes of answer", n)
		} else if !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("TLS without a client certificate: %v", err)
		}
		conn.Close()
	}

	// (c) The data directory's client certificate works, over gRPC and
	// through the JSON gateway.
	c, err := etcd.NewClient([]string{endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Get(t.Context(), key)
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != secret {
		t.Fatalf("get with the client certificate: %v, %v", resp, err)
	}
	hc.Transport = &http.Transport{TLSClientConfig: tlsCfg}
	gw, err := hc.Post(endpoint+"/v3/kv/range", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("gateway with the client certificate: %v", err)
	}
	got, _ := io.ReadAll(gw.Body)
	gw.Body.Close()
	if gw.StatusCode != http.StatusOK || !bytes.Contains(got, []byte(base64.StdEncoding.EncodeToString([]byte(secret)))) {
		t.Errorf("gateway with the client certificate: %s %q", gw.Status, got)
	}
	members, err := c.MemberList(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if peer := members.Members[0].PeerURLs[0]; !strings.HasPrefix(peer, "https://127.0.0.1:") {
		t.Errorf("peer URL %s: want https on 127.0.0.1", peer)
	}
	if got, err := server.EmbeddedEtcdEndpoint(opts.DataDir); err != nil || got != endpoint {
		t.Errorf("recorded endpoint %q, %v; want %s", got, err, endpoint)
	}

	// (d) Modes: the PKI's directories 0700, private keys 0600.
	for _, d := range []string{pkiDir, filepath.Dir(pkiDir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want mode 0700", d, fi.Mode(), err)
		}
	}
	keys, _ := filepath.Glob(filepath.Join(pkiDir, "*.key"))
	if len(keys) != 4 {
		t.Errorf("keys %v, want 4", keys)
	}
	for _, k := range keys {
		if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", k, fi.Mode(), err)
		}
	}

	// (e) A restart reuses the PKI: the certificate loaded before still
	// works, and no file changed.
	before := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(pkiDir, "*.crt"))
	keyFiles, _ := filepath.Glob(filepath.Join(pkiDir, "*.key"))
	files = append(files, keyFiles...)
	for _, f := range files {
		before[f], _ = os.ReadFile(f)
	}
	c.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := server.EmbeddedEtcdEndpoint(opts.DataDir); got != "" {
		t.Errorf("endpoint record %q left after shutdown", got)
	}
	b2 := startBackend(t, opts)
	defer b2.Close()
	for f, data := range before {
		if now, err := os.ReadFile(f); err != nil || !bytes.Equal(now, data) {
			t.Errorf("%s changed across a restart (%v)", filepath.Base(f), err)
		}
	}
	c2, err := etcd.NewClient([]string{b2.Embedded.Endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if resp, err := c2.Get(t.Context(), key); err != nil || len(resp.Kvs) != 1 {
		t.Errorf("get after the restart with the certificate of before: %v, %v", resp, err)
	}
}

// TestEmbeddedEtcdFixedPorts: the ports of the options are used, on
// 127.0.0.1 only; a taken port fails the start with a hint.
func TestEmbeddedEtcdFixedPorts(t *testing.T) {
	opts := server.DefaultOptions()
	opts.DataDir = t.TempDir()
	opts.EtcdUnsafeNoFsync = true
	opts.EtcdCompactionInterval = 0
	opts.Logger = testLogger(t)
	var b *server.Backend
	var err error
	var client, peer int
	for range 3 { // a free port can be taken between pick and bind
		client, peer = freePort(t), freePort(t)
		opts.EmbeddedEtcdClientPort, opts.EmbeddedEtcdPeerPort = client, peer
		if b, err = server.Start(t.Context(), opts); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if want := "https://127.0.0.1:" + strconv.Itoa(client); b.Embedded.Endpoint != want {
		t.Errorf("endpoint %s, want %s", b.Embedded.Endpoint, want)
	}
	members, err := b.Client.MemberList(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := members.Members[0].PeerURLs[0], "https://127.0.0.1:"+strconv.Itoa(peer); got != want {
		t.Errorf("peer URL %s, want %s", got, want)
	}
	// Loopback only: the port is not served on the machine's other
	// addresses.
	if ip := otherAddress(); ip != "" {
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(client)), time.Second); err == nil {
			conn.Close()
			t.Errorf("the client port answers on %s", ip)
		} else {
			t.Logf("client port on %s: %v", ip, err)
		}
	}

	// A second server on the same ports: refused, saying what to do.
	other := opts
	other.DataDir = t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	other.Logger = testLogger(t)
	if b2, err := server.Start(ctx, other); err == nil {
		b2.Close()
		t.Fatal("a second server started on the same ports")
	} else if !strings.Contains(err.Error(), "--embedded-etcd-client-port") {
		t.Errorf("Start on taken ports: %v", err)
	} else {
		t.Logf("Start on taken ports: %v", err)
	}
}

// TestEmbeddedEtcdUpgrade: a data directory written by a regis whose
// embedded etcd spoke plain HTTP starts with TLS, its data kept.
func TestEmbeddedEtcdUpgrade(t *testing.T) {
	dataDir := t.TempDir()
	old, err := etcd.StartEmbedded(t.Context(), etcd.EmbeddedConfig{DataDir: server.EmbeddedEtcdDir(dataDir), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := etcd.NewClient([]string{old.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(t.Context(), "/registry/kept", "yes"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	old.Close()

	opts := server.DefaultOptions()
	opts.DataDir = dataDir
	opts.EtcdUnsafeNoFsync = true
	opts.EtcdCompactionInterval = 0
	b := startBackend(t, opts)
	defer b.Close()
	if !strings.HasPrefix(b.Embedded.Endpoint, "https://") {
		t.Errorf("endpoint %s", b.Embedded.Endpoint)
	}
	resp, err := b.Client.Get(t.Context(), "/registry/kept")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "yes" {
		t.Errorf("data after the upgrade: %v, %v", resp, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// otherAddress is an address of this machine other than loopback, "" if
// there is none.
func otherAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
