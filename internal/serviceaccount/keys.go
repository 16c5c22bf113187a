// Package serviceaccount issues and verifies Kubernetes service account
// tokens as kube-apiserver does: JWTs (RS256, ES256/384/512) with
// upstream's claims (iss, sub, aud, exp, iat, nbf, jti and the
// "kubernetes.io" private claim), the key id of upstream (SHA-256 of the
// public key's DER, base64url), the TokenRequest subresource
// (serviceaccounts/token), the token authenticator that checks a token's
// service account and bound object still exist, and the OIDC discovery
// documents of the issuer. JWS compact serialization is written here with
// the standard library.
package serviceaccount

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/regis-dev/regis/internal/pki"
)

// SigningKeyFile is the generated signing key's name in the PKI directory
// (kubeadm's name).
const SigningKeyFile = "sa.key"

// generatedKeyBits is the size of a generated RSA signing key (kubeadm's).
const generatedKeyBits = 2048

// KeyID is upstream's key id of a public key: the SHA-256 of its PKIX DER,
// base64url without padding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("failed to serialize public key to DER format: %v", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// LoadSigningKey reads a PEM private key (RSA in PKCS #1 or #8, ECDSA in
// SEC 1 or PKCS #8) from path, as --service-account-signing-key-file.
func LoadSigningKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := parsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// EnsureSigningKey reads dir/sa.key, or generates it (RSA 2048, 0600)
// when it is missing.
func EnsureSigningKey(dir string) (crypto.Signer, error) {
	path := dir + string(os.PathSeparator) + SigningKeyFile
	if _, err := os.Stat(path); err == nil {
		return LoadSigningKey(path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := pki.EnsureDir(dir); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, generatedKeyBits)
	if err != nil {
		return nil, err
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	if err := pki.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), pki.KeyMode); err != nil {
		return nil, err
	}
	return key, nil
}

// LoadPublicKeys reads the verification keys of a --service-account-key-file:
// every PEM public key, certificate or private key (whose public part is
// taken) in the file.
func LoadPublicKeys(path string) ([]crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []crypto.PublicKey
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		k, err := parsePublicBlock(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if k != nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("data does not contain any valid RSA or ECDSA public keys")
	}
	return keys, nil
}

// parsePublicBlock returns the public key of one PEM block, nil for a
// block of another type.
func parsePublicBlock(b *pem.Block) (crypto.PublicKey, error) {
	switch b.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		return checkPublic(k)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		return checkPublic(c.PublicKey)
	case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
		k, err := parsePrivateKey(pem.EncodeToMemory(b))
		if err != nil {
			return nil, err
		}
		return k.Public(), nil
	}
	return nil, nil
}

func checkPublic(k any) (crypto.PublicKey, error) {
	switch k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", k)
}

// parsePrivateKey returns the first RSA or ECDSA private key of PEM data.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return nil, errors.New("data does not contain a valid RSA or ECDSA private key")
		}
		var k any
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			if _, err := ecAlgorithm(k.Curve); err != nil {
				return nil, err
			}
			return k, nil
		}
		return nil, fmt.Errorf("unknown private key type %T, must be *rsa.PrivateKey or *ecdsa.PrivateKey", k)
	}
}

// ecAlgorithm is the JWS algorithm of an ECDSA curve, as upstream's.
func ecAlgorithm(c elliptic.Curve) (string, error) {
	switch c {
	case elliptic.P256():
		return "ES256", nil
	case elliptic.P384():
		return "ES384", nil
	case elliptic.P521():
		return "ES512", nil
	}
	return "", errors.New("unknown private key curve, must be 256, 384, or 521")
}
