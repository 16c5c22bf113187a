// Package progress shows how far long work is: on a terminal one line
// redrawn in place ("rewrite [=====>    ] 1,234/5,000 24% 310/s ETA 12s"),
// elsewhere (a log, a pipe) the same line every few seconds, and a last one
// at the end if any was printed.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Intervals between two lines.
const (
	TerminalInterval = 200 * time.Millisecond
	LogInterval      = 5 * time.Second
	width            = 30
)

// Bar is the progress of one piece of work. Its goroutine, started by
// New, is stopped by Finish, which its owner must call.
type Bar struct {
	w     io.Writer
	label string
	tty   bool
	start time.Time

	mu          sync.Mutex // guards the fields below and writes to w
	done, total int64
	note        string
	lastLen     int
	printed     bool // a line was written

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// New starts a bar on w, redrawn in place when w is a terminal.
func New(w io.Writer, label string) *Bar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return start(w, label, tty)
}

func start(w io.Writer, label string, tty bool) *Bar {
	b := &Bar{w: w, label: label, tty: tty, start: time.Now(), stop: make(chan struct{})}
	interval := LogInterval
	if tty {
		interval = TerminalInterval
	}
	b.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.draw(false)
			}
		}
	})
	return b
}

// Set records how much is done of total (total 0: unknown).
func (b *Bar) Set(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.total = done, total
}

// Note sets a short text shown after the figures ("12 rewritten").
func (b *Bar) Note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.note = s
}

// Finish draws the last line and stops the bar. Later calls do nothing.
func (b *Bar) Finish() {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
		b.draw(true)
	})
}

func (b *Bar) draw(final bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	line := b.lineLocked(time.Since(b.start))
	if !b.tty {
		// Work short enough to print no periodic line prints none.
		if !final || b.printed {
			fmt.Fprintln(b.w, line)
			b.printed = true
		}
		return
	}
	pad := ""
	if n := b.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	b.lastLen = len(line)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.w, "\r%s%s%s", line, pad, end)
}

func (b *Bar) lineLocked(elapsed time.Duration) string {
	var s strings.Builder
	s.WriteString(b.label)
	rate := 0.0
	if secs := elapsed.Seconds(); secs > 0 {
		rate = float64(b.done) / secs
	}
	if b.total > 0 {
		frac := min(float64(b.done)/float64(b.total), 1)
		filled := int(frac * width)
		bar := strings.Repeat("=", filled)
		if filled < width {
			bar += ">" + strings.Repeat(" ", width-filled-1)
		}
		fmt.Fprintf(&s, " [%s] %s/%s %3.0f%%", bar, Count(b.done), Count(b.total), frac*100)
	} else {
		fmt.Fprintf(&s, " %s", Count(b.done))
	}
	fmt.Fprintf(&s, " %.0f/s", rate)
	if b.total > 0 && rate > 0 && b.done < b.total {
		eta := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		fmt.Fprintf(&s, " ETA %s", eta.Round(time.Second))
	} else {
		fmt.Fprintf(&s, " %s", elapsed.Round(time.Millisecond))
	}
	if b.note != "" {
		s.WriteString(" " + b.note)
	}
	return s.String()
}

// Count renders n with thousands separators: 1234567 → "1,234,567".
func Count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
