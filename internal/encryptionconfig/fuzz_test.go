package encryptionconfig_test

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value"
)

// FuzzParse: the parser never panics; it accepts exactly what
// kube-apiserver's LoadEncryptionConfig accepts; what it accepts builds and
// writes values it reads back.
func FuzzParse(f *testing.F) {
	for _, fx := range fixtures(f) {
		f.Add(fx.config)
	}
	for _, c := range []string{wildcardConfig, configKey1, configKey2, configBad,
		`{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{"resources":["*.*"],"providers":[{"identity":{}}]}]}`,
		"apiVersion: v1\nkind: EncryptionConfig\nresources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n",
	} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := encryptionconfig.Parse(data)
		if bytes.Contains(data, []byte("kms")) {
			return // upstream would dial the plugins
		}
		if err != nil {
			// Duplicate key names in one resource are refused by regis only:
			// reads would pick a key by name.
			if _, upErr := upstreamLoad(t, data); upErr == nil && !strings.Contains(err.Error(), "duplicate key name") {
				t.Fatalf("regis refuses what kube-apiserver accepts: %v\n%s", err, data)
			}
			return
		}
		set, err := encryptionconfig.Build(t.Context(), cfg, encryptionconfig.Hash(data), encryptionconfig.BuildOptions{})
		if err != nil {
			t.Fatalf("Parse accepted what Build refuses: %v\n%s", err, data)
		}
		defer set.Close()
		if _, err := upstreamLoad(t, data); err != nil && !strings.Contains(err.Error(), "kms") {
			t.Fatalf("regis accepts what kube-apiserver refuses: %v\n%s", err, data)
		}
		for _, rc := range cfg.Resources {
			for _, res := range rc.Resources {
				gr := schema.ParseGroupResource(res)
				if gr.Resource == "*" {
					gr.Resource = "anything"
				}
				if gr.Group == "*" {
					gr.Group = "any.group"
				}
				tr := set.TransformerForResource(gr)
				dc := value.DefaultContext("/registry/x")
				stored, err := tr.TransformToStorage(t.Context(), []byte("k8s\x00v"), dc)
				if err != nil {
					t.Fatalf("%s: write: %v", gr, err)
				}
				got, _, err := tr.TransformFromStorage(t.Context(), stored, dc)
				if err != nil || string(got) != "k8s\x00v" {
					t.Fatalf("%s: read back %q, %v", gr, got, err)
				}
			}
		}
	})
}
