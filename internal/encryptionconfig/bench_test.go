package encryptionconfig_test

import (
	"bytes"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value"
)

// BenchmarkTransformers measures the whole path a store takes for a 2 KiB
// secret: the reloadable per-resource transformer, the provider prefix
// chain, the key list and the cipher, per provider of the fixtures.
func BenchmarkTransformers(b *testing.B) {
	plain := bytes.Repeat([]byte{'s'}, 2048)
	dc := value.DefaultContext("/registry/secrets/default/s1")
	secrets := schema.GroupResource{Resource: "secrets"}
	for _, fx := range append(fixtures(b), fixture{name: "identity", config: []byte(config(`
- resources: [secrets]
  providers: [{identity: {}}]
`))}) {
		tr := encryptionconfig.NewTransformers(buildSet(b, fx.config)).TransformerForResource(secrets)
		b.Run(fx.name+"/ToStorage", func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.TransformToStorage(b.Context(), plain, dc); err != nil {
					b.Fatal(err)
				}
			}
		})
		stored, err := tr.TransformToStorage(b.Context(), plain, dc)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fx.name+"/FromStorage", func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := tr.TransformFromStorage(b.Context(), stored, dc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
