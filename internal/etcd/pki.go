package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/regis-dev/regis/internal/pki"
)

// The files of an embedded etcd's PKI (see EnsurePKI), named as kubeadm
// names those of its etcd.
const (
	PKICAFile         = "ca.crt"
	PKICAKeyFile      = "ca.key"
	PKIServerCertFile = "server.crt"
	PKIServerKeyFile  = "server.key"
	PKIPeerCertFile   = "peer.crt"
	PKIPeerKeyFile    = "peer.key"
	PKIClientCertFile = "client.crt"
	PKIClientKeyFile  = "client.key"
)

// RenewBefore is how long before it expires EnsurePKI replaces a
// certificate the CA signed (with one signed by the same CA).
const RenewBefore = 90 * 24 * time.Hour

// PKI is the certificates that secure an embedded etcd, in one directory:
// a CA of its own; a serving certificate for the client port and one for
// the peer port, both for 127.0.0.1, ::1 and localhost; and a client
// certificate for those who connect to it (regis and its operator
// commands). The etcd member accepts only clients, and peers, whose
// certificate the CA signed.
type PKI struct {
	Dir string
	// Generated lists the files EnsurePKI wrote, none when it reused
	// every file.
	Generated []string
}

func (p PKI) path(name string) string { return filepath.Join(p.Dir, name) }

// CAFile is the CA's certificate: what clients trust the member with.
func (p PKI) CAFile() string { return p.path(PKICAFile) }

// ClientCertFile is the client certificate etcd accepts.
func (p PKI) ClientCertFile() string { return p.path(PKIClientCertFile) }

// ClientKeyFile is ClientCertFile's key.
func (p PKI) ClientKeyFile() string { return p.path(PKIClientKeyFile) }

// ClientTLS is the TLS configuration of a client of the member: it trusts
// the CA and presents the client certificate.
func (p PKI) ClientTLS() (*tls.Config, error) {
	return TLSConfig(p.CAFile(), p.ClientCertFile(), p.ClientKeyFile())
}

// Apply makes cfg serve clients and peers with p's certificates, requiring
// certificates the CA signed of both.
func (p PKI) Apply(cfg *EmbeddedConfig) {
	cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile = p.path(PKIServerCertFile), p.path(PKIServerKeyFile), p.CAFile()
	cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerCAFile = p.path(PKIPeerCertFile), p.path(PKIPeerKeyFile), p.CAFile()
}

// EnsurePKI makes dir hold a PKI and returns it. dir is created 0700 (and
// made 0700 if it was not); private keys are 0600. An existing CA is
// always kept, never regenerated: when only one of its two files exists,
// EnsurePKI fails rather than replace it. A certificate is (re)issued
// when it is missing, does not match its key, was not signed by the CA,
// or expires within RenewBefore; others are kept.
func EnsurePKI(dir string) (PKI, error) {
	p := PKI{Dir: dir}
	if err := pki.EnsureDir(dir); err != nil {
		return p, fmt.Errorf("etcd PKI: %w", err)
	}
	ca, err := p.ensureCA()
	if err != nil {
		return p, fmt.Errorf("etcd PKI in %s: %w", dir, err)
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, c := range []struct {
		cn             string
		usage          []x509.ExtKeyUsage
		loopback       bool
		certFile, keyF string
	}{
		// etcd's gRPC gateway dials the member with the serving
		// certificate, and a member dials its peers with the peer one:
		// both are client certificates too (as kubeadm issues them).
		{"regis-etcd-server", both, true, PKIServerCertFile, PKIServerKeyFile},
		{"regis-etcd-peer", both, true, PKIPeerCertFile, PKIPeerKeyFile},
		{"regis-etcd-client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, false, PKIClientCertFile, PKIClientKeyFile},
	} {
		certFile, keyFile := p.path(c.certFile), p.path(c.keyF)
		if keep(ca, certFile, keyFile, c.usage[0]) {
			continue
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: c.cn, Organization: []string{"regis"}},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: c.usage,
		}
		if c.loopback {
			tmpl.DNSNames, tmpl.IPAddresses = []string{"localhost"}, pki.LoopbackIPs()
		}
		if err := ca.IssueFiles(tmpl, certFile, keyFile); err != nil {
			return p, fmt.Errorf("etcd PKI: %w", err)
		}
		p.Generated = append(p.Generated, c.certFile, c.keyF)
	}
	// Keys written by hand or by an older version may be readable by
	// others: the member's identity is not.
	for _, name := range []string{PKICAKeyFile, PKIServerKeyFile, PKIPeerKeyFile, PKIClientKeyFile} {
		if fi, err := os.Stat(p.path(name)); err == nil && fi.Mode().Perm()&^pki.KeyMode != 0 {
			if err := os.Chmod(p.path(name), pki.KeyMode); err != nil {
				return p, fmt.Errorf("etcd PKI: %w", err)
			}
		}
	}
	return p, nil
}

// ensureCA loads the CA, or creates it when neither of its files exists.
func (p *PKI) ensureCA() (*pki.CA, error) {
	certFile, keyFile := p.path(PKICAFile), p.path(PKICAKeyFile)
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		ca, err := pki.NewCA("regis-etcd-ca", pki.CAValidity)
		if err != nil {
			return nil, err
		}
		if err := ca.Save(certFile, keyFile); err != nil {
			return nil, err
		}
		p.Generated = append(p.Generated, PKICAFile, PKICAKeyFile)
		return ca, nil
	case certErr != nil || keyErr != nil:
		return nil, fmt.Errorf("the CA is incomplete (%v; %v): restore the missing file, or remove %s and %s and every certificate of the directory to generate a new CA (clients trusting the old one will then be refused)",
			certErr, keyErr, PKICAFile, PKICAKeyFile)
	}
	return pki.LoadCA(certFile, keyFile)
}

// keep reports whether the certificate in certFile and its key in keyFile
// may stay: they match, the CA signed the certificate for usage, and it is
// valid for RenewBefore more.
func keep(ca *pki.CA, certFile, keyFile string, usage x509.ExtKeyUsage) bool {
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return false
	}
	cert, err := pki.ReadCert(certFile)
	if err != nil {
		return false
	}
	return ca.Verify(cert, usage, time.Now().Add(RenewBefore)) == nil
}
