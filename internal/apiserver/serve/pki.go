package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The files EnsurePKI keeps in its directory.
const (
	CAFile          = "ca.crt"
	CAKeyFile       = "ca.key"
	ServingCertFile = "apiserver.crt"
	ServingKeyFile  = "apiserver.key"
	AdminCertFile   = "admin.crt"
	AdminKeyFile    = "admin.key"
	AdminKubeconfig = "admin.kubeconfig"
)

// PKI is a CA, a serving certificate it signed and an admin client
// certificate it signed, as PEM files in one directory.
type PKI struct {
	Dir string
}

func (p PKI) path(name string) string { return filepath.Join(p.Dir, name) }

// EnsurePKI creates, once, a self-signed CA, a serving certificate for
// localhost, the loopback addresses, the kubernetes service names and
// hosts, and an admin client certificate (CN admin, O system:masters), in
// dir. Existing files are kept: a restarted server keeps its identity.
func EnsurePKI(dir string, hosts ...string) (PKI, error) {
	p := PKI{Dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, err
	}
	if _, err := os.Stat(p.path(AdminKeyFile)); err == nil {
		return p, nil
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "regis-ca"},
		NotBefore: now, NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return p, err
	}
	serving := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "regis-apiserver"},
		NotBefore: now, NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.ParseIP("10.0.0.1")},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			serving.IPAddresses = append(serving.IPAddresses, ip)
		} else if h != "" {
			serving.DNSNames = append(serving.DNSNames, h)
		}
	}
	admin := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore: now, NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if err := writeCert(p.path(CAFile), caDER); err != nil {
		return p, err
	}
	if err := writeKey(p.path(CAKeyFile), caKey); err != nil {
		return p, err
	}
	for _, c := range []struct {
		tmpl           *x509.Certificate
		certFile, keyF string
	}{{serving, ServingCertFile, ServingKeyFile}, {admin, AdminCertFile, AdminKeyFile}} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return p, err
		}
		der, err := x509.CreateCertificate(rand.Reader, c.tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return p, err
		}
		if err := writeCert(p.path(c.certFile), der); err != nil {
			return p, err
		}
		if err := writeKey(p.path(c.keyF), key); err != nil {
			return p, err
		}
	}
	return p, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func writeCert(path string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

// WriteKubeconfig writes the admin kubeconfig for a server at url to path
// (with the certificates embedded, so the file works from anywhere) and
// returns path.
func (p PKI) WriteKubeconfig(url, path string) (string, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(p.path(name))
		if err != nil {
			return "", err
		}
		return b64(b), nil
	}
	ca, err1 := read(CAFile)
	cert, err2 := read(AdminCertFile)
	key, err3 := read(AdminKeyFile)
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: regis
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: regis
  context:
    cluster: regis
    user: admin
current-context: regis
`, url, ca, cert, key)
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}
