package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLine(t *testing.T) {
	b := &Bar{label: "rewrite", done: 250, total: 1000, note: "12 rewritten"}
	got := b.lineLocked(10 * time.Second)
	for _, want := range []string{"rewrite [=======>", "250/1,000  25%", "25/s", "ETA 30s", "12 rewritten"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
	b = &Bar{label: "scan", done: 1234}
	if got := b.lineLocked(time.Second); !strings.HasPrefix(got, "scan 1,234 1234/s") {
		t.Errorf("line without total: %q", got)
	}
}

func TestTerminalRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	b := start(&buf, "scan", true)
	b.Set(5, 10)
	b.Finish()
	b.Finish()
	out := buf.String()
	if !strings.HasPrefix(out, "\rscan [") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("terminal output %q", out)
	}
}

func TestLogQuietWhenShort(t *testing.T) {
	var buf bytes.Buffer
	b := start(&buf, "scan", false)
	b.Set(5, 10)
	b.Finish()
	if buf.Len() != 0 {
		t.Fatalf("short work printed %q", buf.String())
	}
}
