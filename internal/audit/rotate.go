package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// backupTimeFormat is the timestamp in a rotated file's name, as
// lumberjack (upstream's rotation) writes it: name-TIMESTAMP.ext, UTC.
const backupTimeFormat = "2006-01-02T15-04-05.000"

// rotatingFile appends to a file and, once it would grow past maxSize
// MiB, renames it to a timestamped backup and starts a new one; old
// backups are removed by count and age. maxSize 0 never rotates.
type rotatingFile struct {
	path       string
	maxSize    int64
	maxBackups int
	maxAge     time.Duration
	mu         sync.Mutex
	f          *os.File
	size       int64
}

func openRotating(path string, maxSizeMiB, maxBackups, maxAgeDays int) (*rotatingFile, error) {
	rf := &rotatingFile{path: path, maxSize: int64(maxSizeMiB) << 20, maxBackups: maxBackups,
		maxAge: time.Duration(maxAgeDays) * 24 * time.Hour}
	if err := rf.open(); err != nil {
		return nil, err
	}
	return rf, nil
}

func (rf *rotatingFile) open() error {
	f, err := os.OpenFile(rf.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return err
	}
	rf.f, rf.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when it would pass the size limit.
func (rf *rotatingFile) Write(p []byte) (int, error) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.f == nil {
		return 0, os.ErrClosed
	}
	if rf.maxSize > 0 && rf.size > 0 && rf.size+int64(len(p)) > rf.maxSize {
		if err := rf.rotateLocked(); err != nil {
			return 0, err
		}
	}
	n, err := rf.f.Write(p)
	rf.size += int64(n)
	return n, err
}

func (rf *rotatingFile) rotateLocked() error {
	if err := rf.f.Close(); err != nil {
		return err
	}
	rf.f = nil
	if err := os.Rename(rf.path, backupName(rf.path, time.Now())); err != nil {
		return err
	}
	if err := rf.open(); err != nil {
		return err
	}
	rf.removeOldLocked()
	return nil
}

func backupName(path string, t time.Time) string {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	return filepath.Join(dir, fmt.Sprintf("%s-%s%s", strings.TrimSuffix(base, ext), t.UTC().Format(backupTimeFormat), ext))
}

// removeOldLocked removes the backups beyond maxBackups and older than
// maxAge (by the timestamp in their names).
func (rf *rotatingFile) removeOldLocked() {
	if rf.maxBackups == 0 && rf.maxAge == 0 {
		return
	}
	dir, base := filepath.Split(rf.path)
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "-"
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return
	}
	type backup struct {
		name string
		t    time.Time
	}
	var backups []backup
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, ext) {
			continue
		}
		t, err := time.Parse(backupTimeFormat, strings.TrimSuffix(strings.TrimPrefix(n, prefix), ext))
		if err != nil {
			continue
		}
		backups = append(backups, backup{n, t})
	}
	slices.SortFunc(backups, func(a, b backup) int { return b.t.Compare(a.t) }) // newest first
	cutoff := time.Now().Add(-rf.maxAge)
	for i, b := range backups {
		if (rf.maxBackups > 0 && i >= rf.maxBackups) || (rf.maxAge > 0 && b.t.Before(cutoff)) {
			_ = os.Remove(filepath.Join(dir, b.name))
		}
	}
}

// Close closes the file.
func (rf *rotatingFile) Close() error {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.f == nil {
		return nil
	}
	err := rf.f.Close()
	rf.f = nil
	return err
}
