package etcd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir.
type testPKI struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "regis test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
		return certFile, keyFile
	}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTLSClient connects to an etcd that requires client certificates, with
// and without one.
func TestTLSClient(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	var srv *etcd.Embedded
	var err error
	for range 3 { // a free port can be taken between pick and bind
		srv, err = etcd.StartEmbedded(t.Context(), etcd.EmbeddedConfig{
			DataDir:       filepath.Join(dir, "data"),
			UnsafeNoFsync: true,
			CertFile:      pki.serverCert,
			KeyFile:       pki.serverKey,
			ClientCAFile:  pki.ca,
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	tlsCfg, err := etcd.TLSConfig(pki.ca, pki.clientCert, pki.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := etcd.NewClient([]string{srv.Endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Put(t.Context(), "/tls", "ok"); err != nil {
		t.Fatalf("put over TLS with a client certificate: %v", err)
	}

	noCert, err := etcd.TLSConfig(pki.ca, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := etcd.NewClient([]string{srv.Endpoint}, etcd.WithTLS(noCert), etcd.WithDialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if _, err := c2.Get(ctx, "/tls"); err == nil {
		t.Error("get without a client certificate succeeded")
	}
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		ca, cert, key      string
		wantNil, wantErr   bool
		wantRoots, wantCrt bool
	}{
		{name: "no flags is plaintext", wantNil: true},
		{name: "CA only", ca: pki.ca, wantRoots: true},
		{name: "client certificate, system roots", cert: pki.clientCert, key: pki.clientKey, wantCrt: true},
		{name: "all three", ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, wantRoots: true, wantCrt: true},
		{name: "certificate without key", ca: pki.ca, cert: pki.clientCert, wantErr: true},
		{name: "key without certificate", key: pki.clientKey, wantErr: true},
		{name: "missing CA file", ca: filepath.Join(dir, "missing.pem"), wantErr: true},
		{name: "CA file without PEM", ca: notPEM, wantErr: true},
		{name: "key does not match", cert: pki.clientCert, key: pki.serverKey, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := etcd.TLSConfig(tt.ca, tt.cert, tt.key)
			switch {
			case tt.wantErr:
				if err == nil {
					t.Fatal("no error")
				}
				return
			case err != nil:
				t.Fatal(err)
			case tt.wantNil:
				if cfg != nil {
					t.Fatalf("got %+v, want nil", cfg)
				}
				return
			case cfg == nil:
				t.Fatal("got nil")
			}
			if got := cfg.RootCAs != nil; got != tt.wantRoots {
				t.Errorf("RootCAs set: %v, want %v", got, tt.wantRoots)
			}
			if got := len(cfg.Certificates) == 1; got != tt.wantCrt {
				t.Errorf("client certificate set: %v, want %v", got, tt.wantCrt)
			}
		})
	}
}

func TestNewClientNeedsEndpoints(t *testing.T) {
	if _, err := etcd.NewClient(nil); err == nil {
		t.Error("NewClient(nil) succeeded")
	}
}
