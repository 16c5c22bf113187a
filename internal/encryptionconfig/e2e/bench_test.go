package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

var benchSeq atomic.Int64

// BenchmarkStoreCreate creates 2 KiB secrets through the etcd3 store on a
// real etcd under identity, aesgcm and KMS v2 (plugin over gRPC), in one run:
//
//	go test ./internal/encryptionconfig/e2e -run '^$' -bench StoreCreate -benchtime 2000x -count 5
func BenchmarkStoreCreate(b *testing.B) {
	endpoint := kmsv2test.Serve(b, kmsv2test.New("key-1"))
	configs := []struct{ name, cfg string }{
		{"identity", config("- resources: [secrets]\n  providers: [{identity: {}}]\n")},
		{"aesgcm", config("- resources: [secrets]\n  providers: [{aesgcm: {keys: [{name: k1, secret: " + key1 + "}]}}]\n")},
		{"kmsv2", config("- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: p1, endpoint: \"" + endpoint + "\"}}]\n")},
	}
	opts := encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	payload := bytes.Repeat([]byte{'x'}, 2048)
	for _, c := range configs {
		s := newServer(b, c.cfg, opts)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				name := fmt.Sprint("s", benchSeq.Add(1))
				obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name}, Data: map[string][]byte{"d": payload}}
				if err := s.secrets.Create(b.Context(), "/secrets/bench/"+name, obj, nil, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
