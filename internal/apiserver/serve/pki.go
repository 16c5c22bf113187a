package serve

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/regis-dev/regis/internal/pki"
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
	ca, err := pki.NewCA("regis-ca", pki.CAValidity)
	if err != nil {
		return p, err
	}
	serving := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "regis-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: append(pki.LoopbackIPs(), net.ParseIP("10.0.0.1")),
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			serving.IPAddresses = append(serving.IPAddresses, ip)
		} else if h != "" {
			serving.DNSNames = append(serving.DNSNames, h)
		}
	}
	admin := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if err := ca.Save(p.path(CAFile), p.path(CAKeyFile)); err != nil {
		return p, err
	}
	if err := ca.IssueFiles(serving, p.path(ServingCertFile), p.path(ServingKeyFile)); err != nil {
		return p, err
	}
	// The admin key last: its presence means the directory is complete.
	if err := ca.IssueFiles(admin, p.path(AdminCertFile), p.path(AdminKeyFile)); err != nil {
		return p, err
	}
	return p, nil
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
