package encryption_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/storage"
)

func findKey(t *testing.T, rep *encryption.Report, resource, key string) encryption.KeyStatus {
	t.Helper()
	for _, rs := range rep.Resources {
		if rs.Resource != resource {
			continue
		}
		for _, k := range rs.Keys {
			if k.Key == key {
				return k
			}
		}
	}
	t.Fatalf("no %s under %s in %s", resource, key, rep)
	return encryption.KeyStatus{}
}

// TestStatus: counts per resource and key, live and from a snapshot file,
// the objects left on a key that is no longer the write key, and the
// aesgcm write counts (counted and stored, history included offline).
func TestStatus(t *testing.T) {
	prefix := newPrefix()
	n := newNode(t, "a", prefix, config(true, "key1"), nodeOptions{noReload: true})
	ctx := t.Context()
	for i := range 5 {
		n.createSecret(t, fmt.Sprint("old", i), "pw")
	}
	for i := range 3 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("c", i)}, Data: map[string]string{"k": "v"}}
		if err := n.configmaps.Create(ctx, "/configmaps/ns/"+cm.Name, cm, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	// One configmap updated: one more aesgcm write, the old one in history.
	if err := n.configmaps.GuaranteedUpdate(ctx, "/configmaps/ns/c0", &corev1.ConfigMap{}, false, nil,
		func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			cm := in.(*corev1.ConfigMap).DeepCopy()
			cm.Data["k"] = "v2"
			return cm, nil, nil
		}, nil); err != nil {
		t.Fatal(err)
	}
	n.reload(t, config(true, "key2", "key1"))
	for i := range 2 {
		n.createSecret(t, fmt.Sprint("new", i), "pw")
	}
	l := peers.NewLayout(prefix)
	if err := n.counts.Flush(ctx, n.client, l); err != nil {
		t.Fatal(err)
	}
	counts, err := peers.ReadWriteCounts(ctx, n.client, l)
	if err != nil {
		t.Fatal(err)
	}
	rules := peers.RulesOf(n.ts.Current())
	check := func(t *testing.T, rep *encryption.Report, stored int64) {
		if k := findKey(t, rep, "secrets", "aescbc:key1"); k.Count != 5 || k.State != encryption.StateRead ||
			len(k.Objects) != 2 || k.MoreObjects != 3 || k.Objects[0] != "ns/old0" {
			t.Errorf("secrets on key1: %+v", k)
		}
		if k := findKey(t, rep, "secrets", "aescbc:key2"); k.Count != 2 || k.State != encryption.StateWrite || len(k.Objects) != 0 {
			t.Errorf("secrets on key2: %+v", k)
		}
		if k := findKey(t, rep, "configmaps", "aesgcm:gk1"); k.Count != 3 || k.State != encryption.StateWrite {
			t.Errorf("configmaps: %+v", k)
		}
		if len(rep.AESGCM) != 1 || rep.AESGCM[0].Key != "gk1" || rep.AESGCM[0].Counted != 4 || rep.AESGCM[0].Stored != stored ||
			rep.AESGCM[0].Writes != 4 || rep.AESGCM[0].Advice != "ok" {
			t.Errorf("aesgcm: %+v", rep.AESGCM)
		}
		if got := rep.NotOn(); len(got) != 1 || !strings.Contains(got[0], "secrets: 5 on aescbc:key1 (read)") {
			t.Errorf("NotOn = %q", got)
		}
	}

	live := &encryption.Live{KV: n.client, Name: srv.Endpoint, PageSize: 3}
	rep, err := encryption.Status(ctx, live, encryption.StatusOptions{Prefix: prefix, Rules: rules, MaxObjects: 2, WriteCounts: counts})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, 3)
	if rep.Revision == 0 {
		t.Error("no revision")
	}

	// Offline, on a snapshot: the same counts, and the configmap's past
	// value counts as a stored aesgcm write.
	snap := filepath.Join(t.TempDir(), "snapshot.db")
	saveSnapshot(t, ctx, n, snap)
	f, err := encryption.OpenFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err = encryption.Status(ctx, f, encryption.StatusOptions{Prefix: prefix, Rules: rules, MaxObjects: 2})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, 4)

	// Only secrets, and no rules: counts without states.
	rep, err = encryption.Status(ctx, live, encryption.StatusOptions{Prefix: prefix, Resources: []schema.GroupResource{secretsGR}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Resources) != 1 || rep.Resources[0].Total != 7 || rep.Resources[0].Keys[0].State != "" {
		t.Errorf("secrets only: %+v", rep.Resources)
	}
}

// TestOpenFileInUse: the database of a running etcd is refused with a
// hint, not waited for.
func TestOpenFileInUse(t *testing.T) {
	_, err := encryption.OpenFile(srv.DataDir)
	if err == nil || !strings.Contains(err.Error(), "--etcd-servers") {
		t.Fatalf("OpenFile of a running etcd: %v", err)
	}
	if _, err := encryption.OpenFile(t.TempDir()); err == nil {
		t.Fatal("an empty directory opened")
	}
}

func saveSnapshot(t *testing.T, ctx context.Context, n *node, path string) {
	t.Helper()
	rc, err := n.client.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
}
