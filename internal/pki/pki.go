// Package pki generates and stores the certificates regis creates for
// itself: a self-signed CA and the certificates it signs, ECDSA P-256,
// as PEM files. Private keys are written 0600 and certificates 0644,
// each atomically (a temporary file renamed into place), so that a crash
// never leaves half a file.
package pki

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

// File modes of what this package writes.
const (
	DirMode  os.FileMode = 0o700 // directories holding private keys
	KeyMode  os.FileMode = 0o600 // private keys
	CertMode os.FileMode = 0o644 // certificates
)

// Validity of generated certificates (the API's since its first version).
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 365 * 24 * time.Hour
)

// backdate makes a new certificate valid an hour in the past, for clocks
// slightly behind.
const backdate = time.Hour

// LoopbackIPs are the addresses of a certificate for loopback only:
// 127.0.0.1 and ::1.
func LoopbackIPs() []net.IP { return []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback} }

// CA is a certificate authority: its certificate and private key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA returns a new self-signed CA named commonName, valid for validity.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-backdate)
	tmpl := &x509.Certificate{
		SerialNumber: Serial(), Subject: pkix.Name{CommonName: commonName},
		NotBefore: now, NotAfter: now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// LoadCA reads a CA written by Save.
func LoadCA(certFile, keyFile string) (*CA, error) {
	cert, err := ReadCert(certFile)
	if err != nil {
		return nil, err
	}
	key, err := ReadKey(keyFile)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", certFile)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not hold the key of %s", keyFile, certFile)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Save writes the CA's certificate to certFile, then its key to keyFile.
func (ca *CA) Save(certFile, keyFile string) error {
	if err := WriteCert(certFile, ca.Cert.Raw); err != nil {
		return err
	}
	return WriteKey(keyFile, ca.Key)
}

// Issue signs tmpl with a new key and returns the certificate's DER and
// the key. A zero SerialNumber, NotBefore or NotAfter is filled in (a
// random serial, an hour ago, LeafValidity later).
func (ca *CA) Issue(tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := NewKey()
	if err != nil {
		return nil, nil, err
	}
	t := *tmpl
	if t.SerialNumber == nil {
		t.SerialNumber = Serial()
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = time.Now().Add(-backdate)
	}
	if t.NotAfter.IsZero() {
		t.NotAfter = t.NotBefore.Add(LeafValidity)
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, err
	}
	return der, key, nil
}

// IssueFiles is Issue writing the certificate to certFile, then the key
// to keyFile.
func (ca *CA) IssueFiles(tmpl *x509.Certificate, certFile, keyFile string) error {
	der, key, err := ca.Issue(tmpl)
	if err != nil {
		return err
	}
	if err := WriteCert(certFile, der); err != nil {
		return err
	}
	return WriteKey(keyFile, key)
}

// Verify reports whether cert was signed by the CA for usage and is valid
// until at least until.
func (ca *CA) Verify(cert *x509.Certificate, usage x509.ExtKeyUsage, until time.Time) error {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return err
	}
	if cert.NotAfter.Before(until) {
		return fmt.Errorf("certificate %q expires %s", cert.Subject.CommonName, cert.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// NewKey returns a new ECDSA P-256 key.
func NewKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// Serial returns a random 120-bit certificate serial number.
func Serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// WriteCert writes a DER certificate to path as PEM, mode 0644.
func WriteCert(path string, der []byte) error {
	return WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), CertMode)
}

// WriteKey writes key to path as a PEM "EC PRIVATE KEY", mode 0600.
func WriteKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), KeyMode)
}

// WriteFile writes data to path with mode, atomically: a reader sees the
// old file or the whole new one. The file never has a wider mode than
// mode, not even while it is written.
func WriteFile(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ReadCert reads the first PEM certificate of path.
func ReadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return nil, fmt.Errorf("%s: no PEM certificate", path)
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return c, nil
		}
	}
}

// ReadKey reads an ECDSA private key (SEC 1 or PKCS #8 PEM) from path.
func ReadKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return nil, fmt.Errorf("%s: no PEM private key", path)
		}
		switch b.Type {
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, errors.New(path + ": not an ECDSA key")
			}
			return ek, nil
		}
	}
}

// EnsureDir creates dir (and its parents) and makes dir itself 0700, also
// when it existed with a wider mode.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	return os.Chmod(dir, DirMode)
}
