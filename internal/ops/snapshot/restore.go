package snapshot

import (
	"errors"
	"fmt"
	"os"

	etcdutl "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// DefaultBumpRevision is how far a restore moves the revision up by
// default: the figure Kubernetes' documentation gives for etcdutl's
// --bump-revision, more than any cluster writes between a snapshot and
// its restore.
const DefaultBumpRevision = 1_000_000_000

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// Snapshot is the file to restore.
	Snapshot string
	// DataDir is the etcd data directory to create; it must be empty or
	// missing.
	DataDir string
	// Name and PeerURL are the member's, as the etcd that will run on
	// DataDir knows itself.
	Name, PeerURL string
	// BumpRevision is added to the snapshot's revision, which is then
	// marked compacted (0: neither).
	BumpRevision uint64
	// SkipHashCheck restores a database file without a SHA-256 trailer.
	SkipHashCheck bool
}

// Restore creates DataDir from the snapshot with etcdutl's restore, as
// `etcdutl snapshot restore --bump-revision N --mark-compacted` does, and
// returns the restored database's status.
func Restore(o RestoreOptions) (*Info, error) {
	if o.Name == "" || o.PeerURL == "" || o.DataDir == "" {
		return nil, errors.New("restore: the data directory, member name and peer URL are required")
	}
	if entries, err := os.ReadDir(o.DataDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("restore: %s is not empty: restore into a new directory, or move this one away first", o.DataDir)
	}
	src, err := Status(o.Snapshot)
	if err != nil {
		return nil, err
	}
	if src.SHA256 == "" && !o.SkipHashCheck {
		return nil, fmt.Errorf("restore: %s has no SHA-256 trailer (a copied database file?); pass --skip-hash-check to restore it anyway", o.Snapshot)
	}
	err = etcdutl.NewV3(zap.NewNop()).Restore(etcdutl.RestoreConfig{
		SnapshotPath:        o.Snapshot,
		Name:                o.Name,
		OutputDataDir:       o.DataDir,
		PeerURLs:            []string{o.PeerURL},
		InitialCluster:      o.Name + "=" + o.PeerURL,
		InitialClusterToken: "etcd-cluster",
		SkipHashCheck:       o.SkipHashCheck || src.SHA256 == "",
		RevisionBump:        o.BumpRevision,
		MarkCompacted:       o.BumpRevision > 0,
	})
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return Status(o.DataDir + "/member/snap/db")
}
