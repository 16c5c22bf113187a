package pki_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/pki"
)

func TestCARoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewCA("test-ca", pki.CAValidity)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := ca.Save(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{certFile: pki.CertMode, keyFile: pki.KeyMode} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v, want mode %o", path, fi.Mode(), err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	loaded, err := pki.LoadCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Cert.Equal(ca.Cert) || !loaded.Key.Equal(ca.Key) {
		t.Error("loaded CA differs")
	}

	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if err := ca.IssueFiles(leaf, filepath.Join(dir, "leaf.crt"), filepath.Join(dir, "leaf.key")); err != nil {
		t.Fatal(err)
	}
	c, err := pki.ReadCert(filepath.Join(dir, "leaf.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Verify(c, x509.ExtKeyUsageClientAuth, time.Now().Add(364*24*time.Hour)); err != nil {
		t.Errorf("leaf: %v", err)
	}
	if err := loaded.Verify(c, x509.ExtKeyUsageClientAuth, time.Now().Add(366*24*time.Hour)); err == nil {
		t.Error("leaf valid for more than LeafValidity")
	}

	// A key that is not the CA's, and a PKCS #8 key.
	other, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	p8 := filepath.Join(dir, "other.key")
	if err := os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := pki.ReadKey(p8); err != nil || !k.Equal(other) {
		t.Errorf("PKCS #8 key: %v", err)
	}
	if _, err := pki.LoadCA(certFile, p8); err == nil || !strings.Contains(err.Error(), "does not hold the key") {
		t.Errorf("LoadCA with another key: %v", err)
	}
	if _, err := pki.LoadCA(filepath.Join(dir, "leaf.crt"), filepath.Join(dir, "leaf.key")); err == nil {
		t.Error("LoadCA accepted a leaf certificate")
	}
}

func TestEnsureDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := pki.EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != pki.DirMode {
		t.Errorf("mode %o, want 700", fi.Mode().Perm())
	}
}
