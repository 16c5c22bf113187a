package etcd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
)

// ErrDataInUse is the error of OpenDB on a database that a running etcd
// holds (its file lock).
var ErrDataInUse = errors.New("the database is in use by a running etcd (is regis serve running on this data directory?)")

// DBPath finds the etcd database of path: the file itself, or
// <path>/member/snap/db (an etcd data directory), or
// <path>/etcd/member/snap/db (a regis data directory).
func DBPath(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return path, nil
	}
	for _, p := range []string{filepath.Join(path, "member", "snap", "db"), filepath.Join(path, "etcd", "member", "snap", "db")} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s holds no etcd database (looked for member/snap/db and etcd/member/snap/db)", path)
}

// OpenDB opens the etcd database of path (see DBPath) read-only and
// returns it with its file's path. A database that a running etcd holds is
// ErrDataInUse after a second's wait for its lock.
func OpenDB(path string) (*bbolt.DB, string, error) {
	file, err := DBPath(path)
	if err != nil {
		return nil, "", err
	}
	db, err := bbolt.Open(file, 0o400, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, file, fmt.Errorf("open %s: %w", file, ErrDataInUse)
	}
	if err != nil {
		return nil, file, fmt.Errorf("open %s: %w", file, err)
	}
	return db, file, nil
}
