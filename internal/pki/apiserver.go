package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// The files EnsureAPIServer keeps in its directory.
const (
	CAFile          = "ca.crt"
	CAKeyFile       = "ca.key"
	ServingCertFile = "apiserver.crt"
	ServingKeyFile  = "apiserver.key"
	AdminCertFile   = "admin.crt"
	AdminKeyFile    = "admin.key"
	AdminKubeconfig = "admin.kubeconfig"
)

// APIServer is the API server's certificates: a CA, a serving certificate
// it signed and an admin client certificate it signed, as PEM files in one
// directory.
type APIServer struct {
	Dir string
}

// Path returns the path of one of the files (CAFile, AdminCertFile, …).
func (p APIServer) Path(name string) string { return filepath.Join(p.Dir, name) }

// EnsureAPIServer creates, once, a self-signed CA, a serving certificate for
// localhost, the loopback addresses, the kubernetes service names and
// hosts, and an admin client certificate (CN admin, O system:masters), in
// dir. Existing files are kept: a restarted server keeps its identity. A
// CA already there without the rest (a server that joined a cluster got
// the first server's) signs the new certificates.
func EnsureAPIServer(dir string, hosts ...string) (APIServer, error) {
	p := APIServer{Dir: dir}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return p, err
	}
	if _, err := os.Stat(p.Path(AdminKeyFile)); err == nil {
		return p, nil
	}
	ca, err := LoadCA(p.Path(CAFile), p.Path(CAKeyFile))
	fresh := errors.Is(err, os.ErrNotExist)
	if fresh {
		ca, err = NewCA("regis-ca", CAValidity)
	}
	if err != nil {
		return p, err
	}
	serving := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "regis-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: append(LoopbackIPs(), net.ParseIP("10.0.0.1")),
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
	if fresh {
		if err := ca.Save(p.Path(CAFile), p.Path(CAKeyFile)); err != nil {
			return p, err
		}
	}
	if err := ca.IssueFiles(serving, p.Path(ServingCertFile), p.Path(ServingKeyFile)); err != nil {
		return p, err
	}
	// The admin key last: its presence means the directory is complete.
	if err := ca.IssueFiles(admin, p.Path(AdminCertFile), p.Path(AdminKeyFile)); err != nil {
		return p, err
	}
	return p, nil
}

// WriteKubeconfig writes the admin kubeconfig for a server at url to path
// (with the certificates embedded, so the file works from anywhere) and
// returns path.
func (p APIServer) WriteKubeconfig(url, path string) (string, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(p.Path(name))
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(b), nil
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
