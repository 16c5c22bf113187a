package serviceaccount

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
)

// Claims are a service account token's claims, in the JSON order go-jose
// writes them (keys sorted).
type Claims struct {
	Audience   Audience     `json:"aud,omitempty"`
	Expiry     *NumericDate `json:"exp,omitempty"`
	IssuedAt   *NumericDate `json:"iat,omitempty"`
	Issuer     string       `json:"iss,omitempty"`
	ID         string       `json:"jti,omitempty"`
	Kubernetes *Private     `json:"kubernetes.io,omitempty"`
	NotBefore  *NumericDate `json:"nbf,omitempty"`
	Subject    string       `json:"sub,omitempty"`
}

// Private is upstream's "kubernetes.io" claim.
type Private struct {
	Namespace      string       `json:"namespace,omitempty"`
	Node           *Ref         `json:"node,omitempty"`
	Pod            *Ref         `json:"pod,omitempty"`
	Secret         *Ref         `json:"secret,omitempty"`
	ServiceAccount Ref          `json:"serviceaccount"`
	WarnAfter      *NumericDate `json:"warnafter,omitempty"`
}

// Ref names an object of a claim.
type Ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Audience is the aud claim: written as an array, read as a string or
// an array (RFC 7519).
type Audience []string

// UnmarshalJSON implements json.Unmarshaler.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("square/go-jose/jwt: expected string or array value to unmarshal to Audience")
	}
	*a = l
	return nil
}

// NumericDate is seconds since the epoch.
type NumericDate int64

// NewNumericDate returns t as a NumericDate.
func NewNumericDate(t time.Time) *NumericDate {
	n := NumericDate(t.Unix())
	return &n
}

// Time returns the date as a time.
func (n NumericDate) Time() time.Time { return time.Unix(int64(n), 0) }

// MarshalJSON implements json.Marshaler.
func (n NumericDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(n), 10), nil
}

// UnmarshalJSON implements json.Unmarshaler (a number, maybe a float).
func (n *NumericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("square/go-jose/jwt: expected number value to unmarshal")
	}
	*n = NumericDate(f)
	return nil
}

// leeway is go-jose's DefaultLeeway, with which expiry and not-before
// are checked.
const leeway = time.Minute

// Validation errors with upstream's messages.
var (
	ErrExpired     = errors.New("service account token has expired")
	ErrNotValidYet = errors.New("service account token is not valid yet")
	ErrInvalidated = errors.New("service account token has been invalidated")
)

// checkTime is go-jose's Claims.Validate with a time only.
func (c *Claims) checkTime(now time.Time) error {
	if c.NotBefore != nil && now.Add(leeway).Before(c.NotBefore.Time()) {
		return ErrNotValidYet
	}
	if c.Expiry != nil && now.Add(-leeway).After(c.Expiry.Time()) {
		return ErrExpired
	}
	if c.IssuedAt != nil && now.Add(leeway).Before(c.IssuedAt.Time()) {
		// go-jose's ErrIssuedInTheFuture, opaque upstream.
		return errors.New("service account token claims could not be validated due to unexpected validation error")
	}
	return nil
}
