package source_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/ops/source"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

// TestLiveAndFileAgree: Get at a revision, History and Scan say the same
// live and on a snapshot of the same etcd.
func TestLiveAndFileAgree(t *testing.T) {
	c := srv.Client(t)
	key := "/src/a"
	r1, _ := c.Put(t.Context(), key, "one")
	c.Put(t.Context(), key, "two")
	c.Delete(t.Context(), key)
	r4, _ := c.Put(t.Context(), key, "three")
	c.Put(t.Context(), "/src/b", "b")

	snap := filepath.Join(t.TempDir(), "s.db")
	rc, err := c.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(snap)
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rc.Close()
	file, err := source.OpenFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	st, err := file.Stats()
	if err != nil || st.Size == 0 || st.InUse == 0 || st.InUse > st.Size {
		t.Fatalf("stats %+v %v", st, err)
	}
	for name, g := range map[string]interface {
		source.Getter
		source.Source
	}{"live": &source.Live{KV: c, Watcher: c}, "file": file} {
		t.Run(name, func(t *testing.T) {
			var types []string
			if err := g.History(t.Context(), key, func(e source.Event) error {
				if e.Delete {
					types = append(types, "delete")
				} else {
					types = append(types, string(e.KV.Value))
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := types; len(got) != 4 || got[0] != "one" || got[2] != "delete" || got[3] != "three" {
				t.Fatalf("history %v", got)
			}
			kv, err := g.Get(t.Context(), key, r1.Header.Revision)
			if err != nil || string(kv.Value) != "one" {
				t.Fatalf("get at %d: %q %v", r1.Header.Revision, kv.Value, err)
			}
			if _, err := g.Get(t.Context(), key, r4.Header.Revision-1); !errors.Is(err, source.ErrNotFound) {
				t.Fatalf("get when deleted: %v", err)
			}
			var keys []string
			if err := g.Scan(t.Context(), "/src/", "/src0", func(kv source.KV) error {
				keys = append(keys, string(kv.Key)+"="+string(kv.Value))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(keys) != 2 || keys[0] != "/src/a=three" || keys[1] != "/src/b=b" {
				t.Fatalf("scan %v", keys)
			}
		})
	}
}
