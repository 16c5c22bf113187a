package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Modes of --audit-log-mode, and the formats of --audit-log-format, as
// upstream lists them.
const (
	ModeBatch          = "batch"
	ModeBlocking       = "blocking"
	ModeBlockingStrict = "blocking-strict"
	FormatJSON         = "json"
	FormatLegacy       = "legacy"
)

// AllowedModes are upstream's modes.
var AllowedModes = []string{ModeBatch, ModeBlocking, ModeBlockingStrict}

// DefaultBatchBufferSize is upstream's --audit-log-batch-buffer-size.
const DefaultBatchBufferSize = 10000

// LogConfig configures the log backend (kube-apiserver's --audit-log-*
// flags).
type LogConfig struct {
	// Path is the file ("-": standard output).
	Path string
	// MaxAge (days), MaxBackups and MaxSize (MiB) rotate the file: it is
	// renamed path-TIMESTAMP.ext once larger than MaxSize (0: never),
	// and the backups beyond MaxBackups (0: all kept) or older than
	// MaxAge days (0: any age) are removed.
	MaxAge, MaxBackups, MaxSize int
	// Mode is blocking (each event written before the request goes on),
	// blocking-strict (the same; a request whose first event is not
	// written fails) or batch (events queued, written by Run; dropped
	// when BufferSize are queued).
	Mode       string
	BufferSize int
}

// Log is the log backend: a Sink writing JSON lines to a file or
// standard output. Run owns its file and, in batch mode, its writer.
type Log struct {
	mu    sync.Mutex
	out   io.Writer
	close func() error
	queue chan []byte // batch mode
}

// OpenLog opens the log of c: the file is created (mode 0600, its
// directory 0700) when missing and appended to.
func OpenLog(c LogConfig) (*Log, error) {
	if c.Path == "" {
		return nil, errors.New("audit: no log path")
	}
	l := &Log{}
	if c.Path == "-" {
		l.out, l.close = os.Stdout, func() error { return nil }
	} else {
		if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err != nil {
			return nil, fmt.Errorf("ensureLogFile: %w", err)
		}
		rf, err := openRotating(c.Path, c.MaxSize, c.MaxBackups, c.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("ensureLogFile: %w", err)
		}
		l.out, l.close = rf, rf.Close
	}
	if c.Mode == ModeBatch {
		size := c.BufferSize
		if size <= 0 {
			size = DefaultBatchBufferSize
		}
		l.queue = make(chan []byte, size)
	}
	return l, nil
}

// Write implements Sink.
func (l *Log) Write(line []byte) error {
	if l.queue != nil {
		select {
		case l.queue <- line:
			return nil
		default:
			return errors.New("audit buffer queue blocked")
		}
	}
	return l.write(line)
}

func (l *Log) write(line []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.out.Write(line)
	return err
}

// Run writes the queued events (batch mode) until ctx ends, then writes
// what is queued and closes the file.
func (l *Log) Run(ctx context.Context) error {
	defer func() { _ = l.close() }()
	if l.queue == nil {
		<-ctx.Done()
		return nil
	}
	for {
		select {
		case line := <-l.queue:
			_ = l.write(line)
		case <-ctx.Done():
			for {
				select {
				case line := <-l.queue:
					_ = l.write(line)
				default:
					return nil
				}
			}
		}
	}
}

// ValidateLogConfig reports the errors of upstream's AuditLogOptions
// Validate, with its messages.
func ValidateLogConfig(c LogConfig, format string) []error {
	var errs []error
	found := false
	for _, m := range AllowedModes {
		found = found || m == c.Mode
	}
	if !found {
		errs = append(errs, fmt.Errorf("invalid audit log mode %s, allowed modes are %q", c.Mode, strings.Join(AllowedModes, ",")))
	} else if c.Mode == ModeBatch && c.BufferSize < 0 {
		errs = append(errs, fmt.Errorf("invalid audit batch log buffer size %v, must be a positive number", c.BufferSize))
	}
	switch format {
	case FormatJSON:
	case FormatLegacy: // upstream's one-line text: not written by regis
		errs = append(errs, fmt.Errorf("--audit-log-format %s is not supported by regis, use %s", format, FormatJSON))
	default:
		errs = append(errs, fmt.Errorf("invalid audit log format %s, allowed formats are %q", format, strings.Join([]string{FormatLegacy, FormatJSON}, ",")))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("--audit-log-maxage %v can't be a negative number", c.MaxAge))
	}
	if c.MaxBackups < 0 {
		errs = append(errs, fmt.Errorf("--audit-log-maxbackup %v can't be a negative number", c.MaxBackups))
	}
	if c.MaxSize < 0 {
		errs = append(errs, fmt.Errorf("--audit-log-maxsize %v can't be a negative number", c.MaxSize))
	}
	return errs
}
