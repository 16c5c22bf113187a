package registest

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"path/filepath"

	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/pki"
)

// UserConfig returns a client configuration that authenticates as user
// name, a member of groups (a client certificate of the server's CA:
// common name name, organizations groups), as envtest's
// AddUser. With RBAC (the default), the user may do what the bootstrap
// policy and the tests' roles grant it; "system:masters" among groups
// allows everything.
func (s *Server) UserConfig(name string, groups ...string) (*rest.Config, error) {
	if s.pkiDir == "" {
		return nil, errors.New("registest: the server has no generated CA")
	}
	ca, err := pki.LoadCA(filepath.Join(s.pkiDir, pki.CAFile), filepath.Join(s.pkiDir, pki.CAKeyFile))
	if err != nil {
		return nil, err
	}
	der, key, err := ca.Issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: name, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := rest.CopyConfig(s.config)
	c.CertData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	c.KeyData = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return c, nil
}
