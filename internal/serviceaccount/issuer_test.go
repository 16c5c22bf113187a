package serviceaccount

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// objects is a Getter over a fixed set of objects ("resource/ns/name").
type objects map[string]Object

func (o objects) Get(_ context.Context, resource, namespace, name string, _ bool) (Object, error) {
	if obj, ok := o[resource+"/"+namespace+"/"+name]; ok {
		return obj, nil
	}
	return Object{}, apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
}

func newIssuer(t testing.TB, key crypto.Signer, getter Getter) *Issuer {
	t.Helper()
	i, err := New(Config{Issuers: []string{"https://issuer.example", "https://old.example"}, SigningKey: key, Getter: getter})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func rsaKey(t testing.TB) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIssueAndAuthenticate(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	getter := objects{"serviceaccounts/ns/sa": {UID: "sa-uid"}, "pods/ns/p": {UID: "pod-uid"}}
	for name, key := range map[string]crypto.Signer{"RS256": rsaKey(t), "ES256": ec} {
		t.Run(name, func(t *testing.T) {
			i := newIssuer(t, key, getter)
			tok, c, err := i.Issue(Token{Namespace: "ns", Name: "sa", UID: "sa-uid", Audiences: []string{"https://issuer.example"},
				Pod: &Ref{Name: "p", UID: "pod-uid"}, Node: &Ref{Name: "n1", UID: "node-uid"}, Expiration: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			kid, _ := KeyID(key.Public())
			if want := `{"alg":"` + name + `","kid":"` + kid + `"}`; string(hdr) != want {
				t.Errorf("header %s, want %s", hdr, want)
			}
			payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
			wantPrefix := `{"aud":["https://issuer.example"],"exp":`
			if !strings.HasPrefix(string(payload), wantPrefix) || !strings.Contains(string(payload),
				`"iss":"https://issuer.example","jti":"`+c.ID+`","kubernetes.io":{"namespace":"ns","node":{"name":"n1","uid":"node-uid"},"pod":{"name":"p","uid":"pod-uid"},"serviceaccount":{"name":"sa","uid":"sa-uid"}},"nbf":`) ||
				!strings.HasSuffix(string(payload), `"sub":"system:serviceaccount:ns:sa"}`) {
				t.Errorf("payload %s", payload)
			}
			res, handled, err := i.AuthenticateToken(context.Background(), tok, nil)
			if err != nil || !handled {
				t.Fatalf("authenticate: %v %v", handled, err)
			}
			u := res.User
			if u.Name != "system:serviceaccount:ns:sa" || u.UID != "sa-uid" || strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:ns" {
				t.Errorf("user %+v", u)
			}
			for k, v := range map[string]string{"authentication.kubernetes.io/pod-name": "p", "authentication.kubernetes.io/pod-uid": "pod-uid",
				"authentication.kubernetes.io/node-name": "n1", "authentication.kubernetes.io/node-uid": "node-uid",
				"authentication.kubernetes.io/credential-id": "JTI=" + c.ID} {
				if got := u.Extra[k]; len(got) != 1 || got[0] != v {
					t.Errorf("extra %s = %v, want %s", k, got, v)
				}
			}
			// A tampered token is refused.
			bad := tok[:len(tok)-4] + "AAAA"
			if _, _, err := i.AuthenticateToken(context.Background(), bad, nil); err == nil {
				t.Error("tampered token accepted")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	getter := objects{"serviceaccounts/ns/sa": {UID: "sa-uid"}}
	i := newIssuer(t, rsaKey(t), getter)
	ctx := context.Background()
	issue := func(tk Token) string {
		tk.Namespace, tk.Name = "ns", "sa"
		if tk.UID == "" {
			tk.UID = "sa-uid"
		}
		if tk.Expiration == 0 {
			tk.Expiration = time.Hour
		}
		tok, _, err := i.Issue(tk)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, c := range []struct {
		name string
		tok  string
		auds []string
		want string
	}{
		{"expired", issue(Token{Now: time.Now().Add(-2 * time.Hour)}), nil, "service account token has expired"},
		{"not yet valid", issue(Token{Now: time.Now().Add(time.Hour)}), nil, "service account token is not valid yet"},
		{"audience", issue(Token{Audiences: []string{"vault"}}), nil,
			`token audiences ["vault"] is invalid for the target audiences ["https://issuer.example"]`},
		{"uid", issue(Token{UID: "old-uid"}), nil, "service account UID (sa-uid) does not match claim (old-uid)"},
		{"pod gone", issue(Token{Pod: &Ref{Name: "p", UID: "u"}}), nil, "service account token has been invalidated"},
		{"secret gone", issue(Token{Secret: &Ref{Name: "s", UID: "u"}}), nil, "service account token has been invalidated"},
	} {
		_, handled, err := i.AuthenticateToken(ctx, c.tok, c.auds)
		if !handled || err == nil || err.Error() != c.want {
			t.Errorf("%s: %v %v, want %q", c.name, handled, err, c.want)
		}
	}
	// Another issuer's token, or no JWT, is not handled.
	other := newIssuer(t, rsaKey(t), getter)
	other.cfg.Issuers[0] = "https://other.example"
	tok, _, _ := other.Issue(Token{Namespace: "ns", Name: "sa", UID: "sa-uid", Expiration: time.Hour})
	for _, tk := range []string{tok, "abc", "a.b.c"} {
		if _, handled, err := i.AuthenticateToken(ctx, tk, nil); handled || err != nil {
			t.Errorf("%q: handled %v, %v", tk, handled, err)
		}
	}
	// The same issuer with another key: the signature fails.
	forged := newIssuer(t, rsaKey(t), getter)
	tok, _, _ = forged.Issue(Token{Namespace: "ns", Name: "sa", UID: "sa-uid", Expiration: time.Hour})
	if _, _, err := i.AuthenticateToken(ctx, tok, nil); !errors.Is(err, errVerify) {
		t.Errorf("forged: %v", err)
	}
}

func TestKeysFromFiles(t *testing.T) {
	dir := t.TempDir()
	key, err := EnsureSigningKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := EnsureSigningKey(dir)
	if err != nil || !again.(*rsa.PrivateKey).Equal(key) {
		t.Fatalf("the generated key is not kept: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, SigningKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	pubs, err := LoadPublicKeys(filepath.Join(dir, SigningKeyFile)) // a private key file verifies too
	if err != nil || len(pubs) != 1 || !pubs[0].(*rsa.PublicKey).Equal(key.Public()) {
		t.Fatalf("public keys: %v %v", pubs, err)
	}
}

func TestJWKSVerifiesToken(t *testing.T) {
	key := rsaKey(t)
	i := newIssuer(t, key, objects{})
	var cfg struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(i.OpenIDConfiguration(), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://issuer.example" || cfg.JWKSURI != "https://issuer.example/openid/v1/jwks" || strings.Join(cfg.Algs, ",") != "RS256" {
		t.Errorf("openid-configuration %s", i.OpenIDConfiguration())
	}
	var set struct {
		Keys []struct{ Kty, Kid, Alg, Use, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(i.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", i.JWKS(), err)
	}
	k := set.Keys[0]
	n, _ := base64.RawURLEncoding.DecodeString(k.N)
	e, _ := base64.RawURLEncoding.DecodeString(k.E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	tok, _, err := i.Issue(Token{Namespace: "ns", Name: "sa", Expiration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p, err := parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.hdr.Kid != k.Kid || k.Alg != "RS256" || k.Use != "sig" || k.Kty != "RSA" {
		t.Errorf("jwk %+v, token kid %s", k, p.hdr.Kid)
	}
	if err := p.verify([]verifyKey{{kid: k.Kid, pub: pub}}); err != nil {
		t.Errorf("the JWKS key does not verify the token: %v", err)
	}
}

// BenchmarkAuthenticateToken is the validation of a pod-bound RS256 token
// (signature, claims, two lookups of an in-memory getter), and the same
// token again within the success cache's TTL.
func BenchmarkAuthenticateToken(b *testing.B) {
	getter := objects{"serviceaccounts/ns/sa": {UID: "sa-uid"}, "pods/ns/p": {UID: "pod-uid"}}
	key := rsaKey(b)
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"uncached", -1}, {"cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			i, err := New(Config{Issuers: []string{"https://issuer.example"}, SigningKey: key, Getter: getter, CacheTTL: bc.ttl})
			if err != nil {
				b.Fatal(err)
			}
			tok, _, err := i.Issue(Token{Namespace: "ns", Name: "sa", UID: "sa-uid", Pod: &Ref{Name: "p", UID: "pod-uid"}, Expiration: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := i.AuthenticateToken(ctx, tok, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestLegacyToken(t *testing.T) {
	getter := objects{"serviceaccounts/ns/sa": {UID: "sa-uid"}}
	i := newIssuer(t, rsaKey(t), getter)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sa", UID: "sa-uid"}}
	tok, err := i.IssueLegacy(sa, "sa-token")
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if want := `{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"ns","kubernetes.io/serviceaccount/secret.name":"sa-token","kubernetes.io/serviceaccount/service-account.name":"sa","kubernetes.io/serviceaccount/service-account.uid":"sa-uid","sub":"system:serviceaccount:ns:sa"}`; string(payload) != want {
		t.Errorf("payload %s\nwant    %s", payload, want)
	}
	ctx := context.Background()
	if _, _, err := i.AuthenticateToken(ctx, tok, nil); err == nil || err.Error() != "token has been invalidated" {
		t.Errorf("without its secret: %v", err)
	}
	getter["secrets/ns/sa-token"] = Object{UID: "s", Token: "another"}
	if _, _, err := i.AuthenticateToken(ctx, tok, nil); err == nil || err.Error() != "token does not match server's copy" {
		t.Errorf("another token in the secret: %v", err)
	}
	getter["secrets/ns/sa-token"] = Object{UID: "s", Token: tok}
	res, _, err := i.AuthenticateToken(ctx, tok, nil)
	if err != nil || res.User.Name != "system:serviceaccount:ns:sa" || res.User.UID != "sa-uid" {
		t.Errorf("legacy token: %+v %v", res, err)
	}
}
