package source

import (
	"os"

	"go.etcd.io/bbolt"
)

// DBStats are the sizes of an etcd database file, as etcd's status
// reports them for a live member.
type DBStats struct {
	// Size is the file's size; InUse the bytes of pages holding data
	// (Size less the free pages): the rest is what a defragmentation frees.
	Size, InUse int64
	// CompactRevision is the revision of the last finished compaction.
	CompactRevision int64
}

var metaBucket = []byte("meta")

// Stats reads the file's sizes and compaction state.
func (f *File) Stats() (DBStats, error) {
	var st DBStats
	fi, err := os.Stat(f.path)
	if err != nil {
		return st, err
	}
	st.Size = fi.Size()
	err = f.db.View(func(tx *bbolt.Tx) error {
		free := int64(f.db.Stats().FreePageN+f.db.Stats().PendingPageN) * int64(f.db.Info().PageSize)
		st.InUse = max(0, min(st.Size, tx.Size()-free))
		if b := tx.Bucket(metaBucket); b != nil {
			if v := b.Get([]byte("finishedCompactRev")); len(v) >= 8 {
				st.CompactRevision = int64(beUint64(v))
			}
		}
		return nil
	})
	return st, err
}
