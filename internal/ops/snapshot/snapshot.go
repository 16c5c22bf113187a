// Package snapshot saves, checks and restores etcd snapshots as etcdctl
// and etcdutl do (it uses etcdutl's own restore), and takes them on a
// schedule for the embedded etcd (Scheduler).
//
// A restore bumps the revision and marks it compacted (etcdutl's
// --bump-revision --mark-compacted): every client that watched the old
// etcd gets "compacted" and relists, instead of silently missing the
// events between the snapshot and the restore.
package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	etcdutl "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// Info describes a saved snapshot.
type Info struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // of the database, as the file's trailer holds it
	// From the database: its newest revision, keys, and etcd's storage
	// version ("" before 3.6).
	Revision int64         `json:"revision"`
	Keys     int           `json:"keys"`
	Hash     uint32        `json:"hash"` // etcdutl's CRC-32 of the contents
	Version  string        `json:"version,omitempty"`
	Took     time.Duration `json:"took,omitempty"`
	// Integrity says how the file was checked ("sha256 ok", or "no
	// sha256 trailer: a copied database file").
	Integrity string `json:"integrity"`
}

// SaveOptions configure Save.
type SaveOptions struct {
	// Progress, if set, is called with the bytes received and the
	// expected total (the member's database size, 0 if unknown).
	Progress func(done, total int64)
}

// Save streams a snapshot of the etcd behind c to path (written to
// path.part and renamed once checked, so path is never half written),
// checks its SHA-256 trailer as etcdutl does and returns its status.
func Save(ctx context.Context, c *clientv3.Client, path string, o SaveOptions) (*Info, error) {
	start := time.Now()
	var total int64
	if eps := c.Endpoints(); len(eps) > 0 {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if st, err := c.Status(sctx, eps[0]); err == nil {
			total = st.DbSize
		}
		cancel()
	}
	rc, err := c.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	defer rc.Close()
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer os.Remove(part) // after the rename, nothing
	w := &progressWriter{w: f, total: total, fn: o.Progress}
	if _, err := io.Copy(w, rc); err != nil {
		f.Close()
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	info, err := Status(part)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(part, path); err != nil {
		return nil, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	info.Path, info.Took = path, time.Since(start)
	return info, nil
}

type progressWriter struct {
	w     io.Writer
	done  int64
	total int64
	fn    func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.done, max(p.total, p.done))
	}
	return n, err
}

// ErrIntegrity is the error of a snapshot whose SHA-256 trailer does not
// match its contents.
var ErrIntegrity = errors.New("snapshot integrity check failed: the SHA-256 of the database does not match the file's trailer")

// Status checks path's SHA-256 trailer (when it has one: a snapshot
// saved from a live etcd) and reads the database's revision, key count
// and hash with etcdutl.
func Status(path string) (*Info, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	info := &Info{Path: path, Size: fi.Size()}
	sum, ok, err := checkTrailer(path, fi.Size())
	switch {
	case err != nil:
		return nil, err
	case ok:
		info.SHA256, info.Integrity = sum, "sha256 ok"
	default:
		info.Integrity = "no sha256 trailer (a database file, not a saved snapshot)"
	}
	st, err := etcdutl.NewV3(zap.NewNop()).Status(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info.Revision, info.Keys, info.Hash, info.Version = st.Revision, st.TotalKey, st.Hash, st.Version
	return info, nil
}

// checkTrailer reports whether the file ends with the SHA-256 of what
// precedes it, as a snapshot from etcd's Snapshot RPC does (a bbolt file
// is a multiple of 512 bytes: one with 32 more has a trailer).
func checkTrailer(path string, size int64) (string, bool, error) {
	if size%512 != sha256.Size {
		return "", false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, size-sha256.Size); err != nil {
		return "", false, err
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return "", false, err
	}
	got := h.Sum(nil)
	if !bytes.Equal(got, want) {
		return "", false, fmt.Errorf("%s: %w", path, ErrIntegrity)
	}
	return hex.EncodeToString(got), true, nil
}
