package encryptionconfig_test

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	upencryptionconfig "k8s.io/apiserver/pkg/server/options/encryptionconfig"
	upvalue "k8s.io/apiserver/pkg/storage/value"
	upidentity "k8s.io/apiserver/pkg/storage/value/encrypt/identity"
)

// This file is the oracle: kube-apiserver's own LoadEncryptionConfig
// (k8s.io/apiserver/pkg/server/options/encryptionconfig), which decodes
// strictly, validates (validation.ValidateEncryptionConfiguration), checks
// masking and builds every provider, KMS v2 included (it connects to the
// plugin). Only the resolution of a resource to its transformer
// (transformerFromOverrides, unexported) is replayed.

// upstreamConfig is what kube-apiserver built from a configuration.
type upstreamConfig struct {
	*upencryptionconfig.EncryptionConfiguration
}

// upstreamLoad runs kube-apiserver's LoadEncryptionConfig on data, without
// automatic reload. KMS v2 goroutines it starts end with the test.
func upstreamLoad(t testing.TB, data []byte) (upstreamConfig, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "encryption.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := upencryptionconfig.LoadEncryptionConfig(t.Context(), path, false, "regis-oracle")
	return upstreamConfig{cfg}, err
}

// TransformerForResource is transformerFromOverrides: gr, then
// "*.<group>", then "*.*", else identity with the encryption check.
func (c upstreamConfig) TransformerForResource(gr schema.GroupResource) upvalue.Transformer {
	for _, k := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
		if t := c.Transformers[k]; t != nil {
			return t
		}
	}
	return upidentity.NewEncryptCheckTransformer()
}

// TestOracleSelfCheck: kube-apiserver reads the real fixtures, so it is a
// fair oracle, and its content hash is ours.
func TestOracleSelfCheck(t *testing.T) {
	for _, fx := range fixtures(t) {
		up, err := upstreamLoad(t, fx.config)
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		got, _, err := up.TransformerForResource(schema.GroupResource{Resource: "secrets"}).
			TransformFromStorage(t.Context(), fx.stored, upvalue.DefaultContext(fx.etcdKey))
		if err != nil {
			t.Fatalf("%s: upstream cannot read its own fixture: %v", fx.name, err)
		}
		checkSecret(t, fx, got)
		if ours := buildSet(t, fx.config).Hash(); ours != up.EncryptionFileContentHash {
			t.Errorf("%s: hash %s, upstream %s", fx.name, ours, up.EncryptionFileContentHash)
		}
	}
}
