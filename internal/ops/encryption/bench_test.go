package encryption_test

import (
	"fmt"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/storage/value"
)

// BenchmarkRewrite5000: re-encrypting 5,000 secrets of 2 KiB from aescbc
// key1 to key2 online (reported as objects/s), and the status scan of them.
func BenchmarkRewrite5000(b *testing.B) {
	const n = 5000
	c := srv.Client(b)
	build := func(cfg string) *encryptionconfig.Set {
		parsed, err := encryptionconfig.Parse([]byte(cfg))
		if err != nil {
			b.Fatal(err)
		}
		set, err := encryptionconfig.Build(b.Context(), parsed, "h", encryptionconfig.BuildOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(set.Close)
		return set
	}
	old, next := build(config(false, "key1")), build(config(false, "key2", "key1"))
	plain := []byte("k8s\x00" + strings.Repeat("x", 2048))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		prefix := newPrefix()
		tr := old.TransformerForResource(secretsGR)
		for j := range n {
			key := fmt.Sprintf("%s/secrets/ns/s%05d", prefix, j)
			out, err := tr.TransformToStorage(b.Context(), plain, value.DefaultContext(key))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Put(b.Context(), key, string(out)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		res, err := encryption.Rewrite(b.Context(), encryption.RewriteOptions{Client: c, Prefix: prefix, Set: next, Logger: quiet})
		if err != nil || res.Rewritten != n {
			b.Fatalf("%+v, %v", res, err)
		}
		b.ReportMetric(float64(n)/res.Duration.Seconds(), "objects/s")
		b.StopTimer()
		rep, err := encryption.Status(b.Context(), &encryption.Live{KV: c}, encryption.StatusOptions{Prefix: prefix})
		if err != nil || rep.Resources[0].Total != n {
			b.Fatal(err)
		}
		_, _ = c.Delete(b.Context(), prefix+"/", clientv3.WithPrefix())
		b.StartTimer()
	}
}
