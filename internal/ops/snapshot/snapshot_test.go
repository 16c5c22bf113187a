package snapshot_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/ops/snapshot"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

var quiet = slog.New(slog.DiscardHandler)

// TestSaveRestore: a restored snapshot holds every key and value saved,
// its revision is above the snapshot's and the revisions below are
// compacted; a corrupted file fails the integrity check; a non-empty
// directory is refused.
func TestSaveRestore(t *testing.T) {
	c := srv.Client(t)
	want := map[string]string{}
	for i := range 200 {
		k, v := fmt.Sprintf("/snap/k%03d", i), fmt.Sprintf("value %d", i)
		if _, err := c.Put(t.Context(), k, v); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	var seen int64
	info, err := snapshot.Save(t.Context(), c, path, snapshot.SaveOptions{Progress: func(done, _ int64) { seen = done }})
	if err != nil {
		t.Fatal(err)
	}
	if info.Integrity != "sha256 ok" || info.Revision < 200 || seen != info.Size {
		t.Fatalf("save: %+v (progress %d)", info, seen)
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Fatalf("part file left: %v", err)
	}
	st, err := snapshot.Status(path)
	if err != nil || st.Revision != info.Revision || st.Keys < 200 {
		t.Fatalf("status: %+v %v", st, err)
	}

	bad := filepath.Join(dir, "bad.db")
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.Status(bad); !errors.Is(err, snapshot.ErrIntegrity) {
		t.Fatalf("corrupted: %v", err)
	}

	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o600)
	if _, err := snapshot.Restore(snapshot.RestoreOptions{Snapshot: path, DataDir: full, Name: "regis", PeerURL: "http://127.0.0.1:2380"}); err == nil {
		t.Fatal("restore into a non-empty directory")
	}

	out := filepath.Join(t.TempDir(), "etcd")
	res, err := snapshot.Restore(snapshot.RestoreOptions{Snapshot: path, DataDir: out, Name: "regis", PeerURL: "http://127.0.0.1:2380", BumpRevision: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != info.Revision+1000 {
		t.Fatalf("restored revision %d, snapshot %d", res.Revision, info.Revision)
	}
	e, err := etcd.StartEmbedded(t.Context(), etcd.EmbeddedConfig{DataDir: out, Logger: quiet, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rc, err := etcd.NewClient([]string{e.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	resp, err := rc.Get(t.Context(), "/snap/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != len(want) || resp.Header.Revision <= info.Revision {
		t.Fatalf("restored %d keys at revision %d (snapshot %d)", len(resp.Kvs), resp.Header.Revision, info.Revision)
	}
	for _, kv := range resp.Kvs {
		if want[string(kv.Key)] != string(kv.Value) {
			t.Fatalf("%s = %q", kv.Key, kv.Value)
		}
	}
	if _, err := rc.Get(t.Context(), "/snap/k000", clientv3.WithRev(info.Revision)); err == nil {
		t.Fatal("the snapshot's revision is not compacted after the restore")
	}
}

// TestSchedulerRetention: the scheduler keeps the newest snapshots.
func TestSchedulerRetention(t *testing.T) {
	dir := t.TempDir()
	m := snapshot.NewMetrics()
	s := &snapshot.Scheduler{Client: srv.Client(t), Dir: dir, Retention: 2, Log: quiet, Metrics: m}
	os.WriteFile(filepath.Join(dir, "mine.db"), nil, 0o600)
	for range 3 {
		if _, err := s.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 { // two snapshots and the file it does not own
		t.Fatalf("%d files", len(entries))
	}
}
