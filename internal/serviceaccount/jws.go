package serviceaccount

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// maxTokenBytes bounds a token the authenticator parses (upstream's JWT
// authenticators refuse larger ones too; a service account token is
// about a kilobyte).
const maxTokenBytes = 64 << 10

// header is a JWS protected header as go-jose writes it (keys sorted).
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
}

// verifyKey is a verification key with its id.
type verifyKey struct {
	kid string
	pub crypto.PublicKey
}

var b64 = base64.RawURLEncoding

// signer signs JWS compact serializations with one private key.
type signer struct {
	key crypto.Signer
	alg string
	kid string
}

func newSigner(key crypto.Signer) (*signer, error) {
	s := &signer{key: key}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		s.alg = "RS256"
	case *ecdsa.PrivateKey:
		alg, err := ecAlgorithm(k.Curve)
		if err != nil {
			return nil, err
		}
		s.alg = alg
	default:
		return nil, fmt.Errorf("unknown private key type %T, must be *rsa.PrivateKey or *ecdsa.PrivateKey", key)
	}
	kid, err := KeyID(key.Public())
	if err != nil {
		return nil, err
	}
	s.kid = kid
	return s, nil
}

// hashOf returns the hash of a JWS algorithm.
func hashOf(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256", "ES256":
		return crypto.SHA256, true
	case "RS384", "ES384":
		return crypto.SHA384, true
	case "RS512", "ES512":
		return crypto.SHA512, true
	}
	return 0, false
}

func digest(h crypto.Hash, data string) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384([]byte(data))
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512([]byte(data))
		return s[:]
	}
	s := sha256.Sum256([]byte(data))
	return s[:]
}

// sign returns the compact JWS of payload (JSON).
func (s *signer) sign(payload []byte) (string, error) {
	hdr, err := json.Marshal(header{Alg: s.alg, Kid: s.kid})
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload)
	h, _ := hashOf(s.alg)
	d := digest(h, input)
	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, d); err != nil {
			return "", err
		}
	case *ecdsa.PrivateKey:
		r, ss, err := ecdsa.Sign(rand.Reader, k, d)
		if err != nil {
			return "", err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*size)
		r.FillBytes(sig[:size])
		ss.FillBytes(sig[size:])
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// errNotJWT marks a token that is no JWS compact serialization: another
// authenticator's token.
var errNotJWT = errors.New("not a JWT")

// parsed is a token split and decoded, not yet verified.
type parsed struct {
	input   string // header.payload
	hdr     header
	payload []byte
	sig     []byte
}

// parse splits a compact JWS; errNotJWT when it is none.
func parse(token string) (*parsed, error) {
	if len(token) > maxTokenBytes || strings.Count(token, ".") != 2 {
		return nil, errNotJWT
	}
	i := strings.IndexByte(token, '.')
	j := strings.LastIndexByte(token, '.')
	p := &parsed{input: token[:j]}
	hdr, err := b64.DecodeString(token[:i])
	if err != nil {
		return nil, errNotJWT
	}
	if p.payload, err = b64.DecodeString(token[i+1 : j]); err != nil {
		return nil, errNotJWT
	}
	if p.sig, err = b64.DecodeString(token[j+1:]); err != nil {
		return nil, errNotJWT
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&p.hdr); err != nil {
		return nil, errNotJWT
	}
	return p, nil
}

// errVerify is go-jose's message for a signature no key verifies.
var errVerify = errors.New("square/go-jose: error in cryptographic primitive")

// verify checks the signature with the keys whose id matches the
// header's (all keys when it names none).
func (p *parsed) verify(keys []verifyKey) error {
	h, ok := hashOf(p.hdr.Alg)
	if !ok {
		return fmt.Errorf("square/go-jose: unexpected signature algorithm %q", p.hdr.Alg)
	}
	d := digest(h, p.input)
	for _, k := range keys {
		if p.hdr.Kid != "" && k.kid != p.hdr.Kid {
			continue
		}
		switch pub := k.pub.(type) {
		case *rsa.PublicKey:
			if strings.HasPrefix(p.hdr.Alg, "RS") && rsa.VerifyPKCS1v15(pub, h, d, p.sig) == nil {
				return nil
			}
		case *ecdsa.PublicKey:
			alg, err := ecAlgorithm(pub.Curve)
			size := (pub.Curve.Params().BitSize + 7) / 8
			if err != nil || alg != p.hdr.Alg || len(p.sig) != 2*size {
				continue
			}
			r, s := new(big.Int).SetBytes(p.sig[:size]), new(big.Int).SetBytes(p.sig[size:])
			if ecdsa.Verify(pub, d, r, s) {
				return nil
			}
		}
	}
	return errVerify
}
