package server

import (
	"context"
	"log/slog"
	"sync"

	"github.com/regis-dev/regis/internal/audit"
)

// AuditOptions are kube-apiserver's audit log flags. Without PolicyFile
// or LogPath nothing is audited (as upstream: a log without a policy
// records no event).
type AuditOptions struct {
	// PolicyFile (--audit-policy-file) is the audit.k8s.io/v1 Policy.
	PolicyFile string
	// LogPath (--audit-log-path) is the log file, "-" for standard output.
	LogPath string
	// LogMaxAge (--audit-log-maxage, days), LogMaxBackup
	// (--audit-log-maxbackup) and LogMaxSize (--audit-log-maxsize, MiB;
	// 0 never rotates) rotate the log.
	LogMaxAge, LogMaxBackup, LogMaxSize int
	// LogFormat (--audit-log-format) is json (legacy is refused).
	LogFormat string
	// LogMode (--audit-log-mode) is blocking, blocking-strict or batch;
	// LogBatchBufferSize (--audit-log-batch-buffer-size) bounds batch
	// mode's queue.
	LogMode            string
	LogBatchBufferSize int
}

// DefaultAuditOptions are upstream's defaults.
func DefaultAuditOptions() AuditOptions {
	return AuditOptions{LogFormat: audit.FormatJSON, LogMode: audit.ModeBlocking, LogBatchBufferSize: audit.DefaultBatchBufferSize}
}

func (o AuditOptions) logConfig() audit.LogConfig {
	if o.LogMode == "" {
		o.LogMode = audit.ModeBlocking
	}
	return audit.LogConfig{Path: o.LogPath, MaxAge: o.LogMaxAge, MaxBackups: o.LogMaxBackup, MaxSize: o.LogMaxSize,
		Mode: o.LogMode, BufferSize: o.LogBatchBufferSize}
}

// validate reports the invalid audit options with upstream's messages,
// and a policy file that does not load.
func (o AuditOptions) validate() []error {
	var errs []error
	if o.LogPath != "" {
		format := o.LogFormat
		if format == "" {
			format = audit.FormatJSON
		}
		errs = append(errs, audit.ValidateLogConfig(o.logConfig(), format)...)
	}
	if o.PolicyFile != "" {
		if _, err := audit.LoadPolicyFile(o.PolicyFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// start loads the policy and opens the log; the log's writer runs in wg
// until ctx ends. Nil (no auditing) without a policy file or log path.
func (o AuditOptions) start(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) (*audit.Auditor, error) {
	if o.PolicyFile == "" || o.LogPath == "" {
		if o.LogPath != "" {
			log.Info("No audit policy file provided, no events will be recorded for log backend")
		}
		return nil, nil
	}
	policy, err := audit.LoadPolicyFile(o.PolicyFile)
	if err != nil {
		return nil, err
	}
	l, err := audit.OpenLog(o.logConfig())
	if err != nil {
		return nil, err
	}
	wg.Go(func() { _ = l.Run(ctx) })
	return audit.New(audit.Config{Policy: policy, Sink: l, Strict: o.logConfig().Mode == audit.ModeBlockingStrict, Logger: log})
}
