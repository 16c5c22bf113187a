package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
)

// TestRotation: past --audit-log-maxsize the file is renamed
// name-TIMESTAMP.ext, and only --audit-log-maxbackup backups stay.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "audit.log")
	l, err := OpenLog(LogConfig{Path: path, MaxSize: 1, MaxBackups: 2, Mode: ModeBlocking})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	line := append(bytes.Repeat([]byte("x"), 64<<10-1), '\n')
	for i := range 4 * 16 { // 4 MiB
		if err := l.Write(line); err != nil {
			t.Fatal(err)
		}
		if i%16 == 15 {
			time.Sleep(2 * time.Millisecond) // distinct backup names
		}
	}
	cancel()
	<-done
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, _ := e.Info()
		if fi.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, more than 1 MiB", e.Name(), fi.Size())
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", e.Name(), fi.Mode())
		}
	}
	if len(names) != 3 || !strings.HasPrefix(names[0], "audit-") || !strings.HasSuffix(names[0], ".log") {
		t.Errorf("files %v: want audit.log and 2 backups audit-TIMESTAMP.log", names)
	}
}

// TestTruncate: an event past the size bound loses its objects and says
// so, as upstream's truncating backend.
func TestTruncate(t *testing.T) {
	a := &Auditor{maxBytes: 1000}
	big := `{"data":"` + strings.Repeat("y", 2000) + `"}`
	ev := &auditv1.Event{Level: auditv1.LevelRequest, RequestObject: &runtime.Unknown{Raw: []byte(big), ContentType: runtime.ContentTypeJSON}}
	b, err := a.marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got auditv1.Event
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestObject != nil || got.Annotations[truncatedAnnotation] != "true" || ev.Annotations != nil {
		t.Errorf("truncated event %s", b)
	}
	ev = &auditv1.Event{RequestURI: strings.Repeat("z", 2000)}
	if _, err := a.marshal(ev); err == nil {
		t.Error("an event too large without objects was not dropped")
	}
}

// TestBatch: in batch mode events are queued and written by Run, which
// writes what is queued before it returns; a full queue drops events.
func TestBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := OpenLog(LogConfig{Path: path, Mode: ModeBatch, BufferSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		err := l.Write([]byte("line\n"))
		if (err != nil) != (i >= 10) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "line\n"); n != 10 {
		t.Errorf("%d lines written, want the 10 queued", n)
	}
}
