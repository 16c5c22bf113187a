package encryptionconfig_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/encryptionconfig"
)

// Keys of the tests: 32, 16 and 7 bytes, and not base64.
const (
	key32  = "c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/IDMyYnk=" // "secret is secure, or is it? 32by"
	key16  = "MTIzNDU2Nzg5MDEyMzQ1Ng=="                     // 16 bytes
	key7   = "c2hvcnRrZXk="                                 // 8 bytes: "shortkey"
	notB64 = "not base64!"
)

func config(resources string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n" + resources
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string // substrings; none means valid
	}{
		{name: "aescbc secrets", yaml: config(`
- resources: [secrets]
  providers:
  - aescbc: {keys: [{name: key1, secret: ` + key32 + `}]}
  - identity: {}
`)},
		{name: "legacy kind", yaml: `apiVersion: v1
kind: EncryptionConfig
resources:
- resources: [secrets]
  providers: [{identity: {}}]
`},
		{name: "json", yaml: `{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{"resources":["secrets"],"providers":[{"identity":{}}]}]}`},
		{name: "wildcards and groups", yaml: config(`
- resources: [events]
  providers: [{identity: {}}]
- resources: [secrets, configmaps., pandas.awesome.bears.example]
  providers: [{aesgcm: {keys: [{name: k1, secret: ` + key16 + `}, {name: k0, secret: ` + key32 + `}]}}]
- resources: ['*.apps']
  providers: [{secretbox: {keys: [{name: k2, secret: ` + key32 + `}]}}]
- resources: ['*.*']
  providers: [{aescbc: {keys: [{name: k3, secret: ` + key32 + `}]}}]
`)},
		{name: "kms v2 defaults", yaml: config(`
- resources: [secrets]
  providers: [{kms: {apiVersion: v2, name: p1, endpoint: unix:///tmp/kms.sock}}]
`)},
		{name: "empty", yaml: "", wantErr: []string{"empty"}},
		{name: "no kind", yaml: "resources: []\n", wantErr: []string{"kind is missing"}},
		{name: "wrong kind", yaml: "apiVersion: apiserver.config.k8s.io/v1\nkind: Other\n", wantErr: []string{`no kind "Other"`}},
		{name: "unknown field", yaml: config(`
- resources: [secrets]
  providers: [{identity: {}}]
  extra: 1
`), wantErr: []string{`unknown field "resources[0].extra"`}},
		{name: "field names are case sensitive", yaml: config(`
- Resources: [secrets]
  providers: [{identity: {}}]
`), wantErr: []string{`unknown field "resources[0].Resources"`}},
		{name: "duplicate field", yaml: config(`
- resources: [secrets]
  resources: [configmaps]
  providers: [{identity: {}}]
`), wantErr: []string{"resources"}},
		{name: "no resources", yaml: "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n", wantErr: []string{"resources: Required value"}},
		{name: "entry without resources or providers", yaml: config(`
- resources: []
  providers: []
`), wantErr: []string{"resources[0].resources: Required value", "resources[0].providers: Required value"}},
		{name: "two providers in one element", yaml: config(`
- resources: [secrets]
  providers: [{identity: {}, aescbc: {keys: [{name: k, secret: ` + key32 + `}]}}]
`), wantErr: []string{"resources[0].providers[0]", "more than one provider"}},
		{name: "empty provider", yaml: config(`
- resources: [secrets]
  providers: [{}]
`), wantErr: []string{"resources[0].providers[0]", "does not contain any of the expected providers"}},
		{name: "short key", yaml: config(`
- resources: [secrets]
  providers:
  - identity: {}
  - aescbc: {keys: [{name: k1, secret: ` + key32 + `}, {name: k2, secret: ` + key7 + `}]}
`), wantErr: []string{"resources[0].providers[1].aescbc.keys[1].secret", "got 8, expected one of [16 24 32]"}},
		{name: "secretbox needs 32 bytes", yaml: config(`
- resources: [secrets]
  providers: [{secretbox: {keys: [{name: k1, secret: ` + key16 + `}]}}]
`), wantErr: []string{"resources[0].providers[0].secretbox.keys[0].secret", "got 16, expected one of [32]"}},
		{name: "not base64", yaml: config(`
- resources: [secrets]
  providers: [{aesgcm: {keys: [{name: k1, secret: "` + notB64 + `"}]}}]
`), wantErr: []string{"resources[0].providers[0].aesgcm.keys[0].secret", "base64"}},
		{name: "missing key name and secret", yaml: config(`
- resources: [secrets]
  providers: [{aesgcm: {keys: [{name: "", secret: ""}]}}]
`), wantErr: []string{"keys[0].name: Required", "keys[0].secret: Required"}},
		{name: "no keys", yaml: config(`
- resources: [secrets]
  providers: [{aesgcm: {keys: []}}]
`), wantErr: []string{"resources[0].providers[0].aesgcm.keys: Required"}},
		{name: "duplicate key names (regis only)", yaml: config(`
- resources: [secrets]
  providers:
  - aescbc: {keys: [{name: k1, secret: ` + key32 + `}]}
  - aescbc: {keys: [{name: k1, secret: ` + key16 + `}]}
`), wantErr: []string{"resources[0].providers[1].aescbc.keys[0].name", `duplicate key name "k1"`}},
		{name: "star", yaml: config(`
- resources: ['*']
  providers: [{identity: {}}]
`), wantErr: []string{"resources[0].resources[0]", "use '*.'"}},
		{name: "capital letters", yaml: config(`
- resources: [Secrets]
  providers: [{identity: {}}]
`), wantErr: []string{"capital"}},
		{name: "overlap in one list", yaml: config(`
- resources: [secrets, '*.']
  providers: [{identity: {}}]
`), wantErr: []string{"overlapping"}},
		{name: "duplicate in one list", yaml: config(`
- resources: [secrets, secrets]
  providers: [{identity: {}}]
`), wantErr: []string{"multiple times"}},
		{name: "masked by an earlier group wildcard", yaml: config(`
- resources: ['*.apps']
  providers: [{identity: {}}]
- resources: [deployments.apps]
  providers: [{identity: {}}]
`), wantErr: []string{"resources[1].resources[0]", `masked by earlier rule "*.apps"`}},
		{name: "masked by an earlier *.*", yaml: config(`
- resources: ['*.*']
  providers: [{identity: {}}]
- resources: [secrets]
  providers: [{identity: {}}]
`), wantErr: []string{`masked by earlier rule "*.*"`}},
		{name: "events.k8s.io", yaml: config(`
- resources: [events.events.k8s.io]
  providers: [{identity: {}}]
`), wantErr: []string{"'events' API group"}},
		{name: "extensions", yaml: config(`
- resources: ['*.extensions']
  providers: [{identity: {}}]
`), wantErr: []string{"extensions"}},
		{name: "resource across groups", yaml: config(`
- resources: ['secrets.*']
  providers: [{identity: {}}]
`), wantErr: []string{"across groups"}},
		{name: "no REST API", yaml: config(`
- resources: [serviceipallocations]
  providers: [{identity: {}}]
`), wantErr: []string{"do not have REST API"}},
		{name: "kms checks", yaml: config(`
- resources: [secrets]
  providers:
  - kms: {apiVersion: v2, name: "a:b", endpoint: "tcp://x", timeout: 0s, cachesize: 10}
  - kms: {apiVersion: v3, name: p, endpoint: "unix:///s"}
  - kms: {apiVersion: v2, name: p, endpoint: ""}
`), wantErr: []string{
			"resources[0].providers[0].kms.name", "must not contain ':'",
			"resources[0].providers[0].kms.timeout", "should be a positive value",
			"resources[0].providers[0].kms.endpoint", `unsupported scheme "tcp"`,
			"resources[0].providers[0].kms.cachesize", "not supported in v2",
			"resources[0].providers[1].kms.apiVersion",
			"resources[0].providers[2].kms.name", "duplicate KMS provider name p",
			"resources[0].providers[2].kms.endpoint",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encryptionconfig.Parse([]byte(tt.yaml))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
			} else {
				if err == nil {
					t.Fatalf("Parse accepted it; want an error with %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
				for _, secret := range []string{key32, key16, key7, notB64, "secret is secure", "shortkey"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows key material %q: %v", secret, err)
					}
				}
			}
			// kube-apiserver's LoadEncryptionConfig accepts exactly what
			// regis accepts (kms entries are left to kms_test.go: upstream
			// connects to their plugins).
			if !strings.Contains(tt.yaml, "kms:") {
				_, upErr := upstreamLoad(t, []byte(tt.yaml))
				switch {
				case err == nil && upErr != nil:
					t.Fatalf("regis accepts what kube-apiserver refuses: %v", upErr)
				case err != nil && upErr == nil && !strings.HasSuffix(tt.name, "(regis only)"):
					t.Fatalf("regis refuses what kube-apiserver accepts: %v", err)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := encryptionconfig.Parse([]byte(config(`
- resources: [secrets]
  providers:
  - kms: {apiVersion: v2, name: p2, endpoint: unix:///tmp/kms.sock}
  - kms: {name: p1, endpoint: unix:///tmp/kms1.sock}
`)))
	if err != nil {
		t.Fatal(err)
	}
	v2, v1 := cfg.Resources[0].Providers[0].KMS, cfg.Resources[0].Providers[1].KMS
	if v2.Timeout.Duration != 3*time.Second || v2.CacheSize != nil {
		t.Errorf("v2 defaults: timeout %v cachesize %v; want 3s, none", v2.Timeout.Duration, v2.CacheSize)
	}
	if v1.APIVersion != "v1" || v1.CacheSize == nil || *v1.CacheSize != 1000 {
		t.Errorf("v1 defaults: apiVersion %q cachesize %v; want v1, 1000", v1.APIVersion, v1.CacheSize)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k := encryptionconfig.Key{Name: "k1", Secret: key32}
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, key32) || !strings.Contains(s, "k1") {
			t.Errorf("Key printed as %q", s)
		}
	}
}
