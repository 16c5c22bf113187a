package encryption_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/storage/value"
	"github.com/regis-dev/regis/internal/storage/value/identify"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2"
	"github.com/regis-dev/regis/internal/storage/value/kmsv2/kmsv2test"
)

// TestKMSv2KeyIDRotation: a KMS v2 key rotates in the plugin (its key_id
// changes); status shows the values per key_id, and rewrite moves every
// value to the new key_id.
func TestKMSv2KeyIDRotation(t *testing.T) {
	plugin := kmsv2test.New("kek-1")
	endpoint := kmsv2test.Serve(t, plugin)
	data := []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: vault, endpoint: \"" + endpoint + "\"}\n")
	cfg, err := encryptionconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	set, err := encryptionconfig.Build(t.Context(), cfg, "h", encryptionconfig.BuildOptions{
		KMSv2: func(ctx context.Context, c encryptionconfig.KMSConfiguration) (encryptionconfig.KMSProvider, error) {
			return kmsv2.Start(ctx, kmsv2.PluginConfig{Name: c.Name, Endpoint: c.Endpoint, PollInterval: 20 * time.Millisecond, Logger: quiet})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	prefix := newPrefix()
	c := srv.Client(t)
	tr := set.TransformerForResource(secretsGR)
	put := func(name string) string {
		key := prefix + "/secrets/ns/" + name
		out, err := tr.TransformToStorage(t.Context(), []byte("k8s\x00v"), value.DefaultContext(key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Put(t.Context(), key, string(out)); err != nil {
			t.Fatal(err)
		}
		return identify.Of(out).KeyID
	}
	for i := range 10 {
		if id := put(fmt.Sprint("s", i)); id != "kek-1" {
			t.Fatalf("key_id %q", id)
		}
	}
	plugin.SetKeyID("kek-2")
	for deadline := time.Now().Add(10 * time.Second); put("probe") != "kek-2"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the provider never saw kek-2")
		}
	}
	rep, err := encryption.Status(t.Context(), &encryption.Live{KV: c}, encryption.StatusOptions{Prefix: prefix, Rules: nil})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, k := range rep.Resources[0].Keys {
		got[k.Key+" "+k.KeyID] = k.Count
	}
	if got["kms-v2:vault kek-1"] != 10 || got["kms-v2:vault kek-2"] != 1 {
		t.Fatalf("status by key_id: %v", got)
	}
	res, err := encryption.Rewrite(t.Context(), encryption.RewriteOptions{Client: c, Prefix: prefix, Set: set, Logger: quiet})
	if err != nil || res.Rewritten != 10 || res.Current != 1 {
		t.Fatalf("rewrite: %+v, %v", res, err)
	}
	rep, err = encryption.Status(t.Context(), &encryption.Live{KV: c}, encryption.StatusOptions{Prefix: prefix})
	if err != nil || len(rep.Resources[0].Keys) != 1 || rep.Resources[0].Keys[0].KeyID != "kek-2" {
		t.Fatalf("after rewrite: %+v, %v", rep.Resources, err)
	}
}
