package server

import (
	"context"
	"fmt"
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
	// Webhook (--audit-webhook-*) sends the events to a server too.
	Webhook audit.WebhookConfig
}

// DefaultAuditOptions are upstream's defaults.
func DefaultAuditOptions() AuditOptions {
	return AuditOptions{LogFormat: audit.FormatJSON, LogMode: audit.ModeBlocking, LogBatchBufferSize: audit.DefaultBatchBufferSize,
		Webhook: audit.WebhookConfig{Mode: audit.ModeBatch, InitialBackoff: audit.DefaultWebhookInitialBackoff,
			BufferSize: audit.DefaultBatchBufferSize, MaxSize: audit.DefaultWebhookBatchMaxSize, MaxWait: audit.DefaultWebhookBatchMaxWait,
			Throttle: true, QPS: audit.DefaultWebhookThrottleQPS, Burst: audit.DefaultWebhookThrottleBurst}}
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
	if o.Webhook.ConfigFile != "" {
		if err := audit.ValidateWebhookConfig(o.Webhook); err != nil {
			errs = append(errs, err)
		}
	}
	if o.PolicyFile != "" {
		if _, err := audit.LoadPolicyFile(o.PolicyFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// start loads the policy and opens the log and the webhook; their
// writers run in wg until ctx ends. Nil (no auditing) without a policy
// file, or without a log path and a webhook.
func (o AuditOptions) start(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) (*audit.Auditor, error) {
	if o.PolicyFile == "" || (o.LogPath == "" && o.Webhook.ConfigFile == "") {
		if o.LogPath != "" {
			log.Info("No audit policy file provided, no events will be recorded for log backend")
		}
		if o.Webhook.ConfigFile != "" {
			log.Info("No audit policy file provided, no events will be recorded for webhook backend")
		}
		return nil, nil
	}
	policy, err := audit.LoadPolicyFile(o.PolicyFile)
	if err != nil {
		return nil, err
	}
	var sinks audit.Sinks
	strict := false
	if o.LogPath != "" {
		l, err := audit.OpenLog(o.logConfig())
		if err != nil {
			return nil, err
		}
		wg.Go(func() { _ = l.Run(ctx) })
		sinks = append(sinks, l)
		strict = o.logConfig().Mode == audit.ModeBlockingStrict
	}
	if o.Webhook.ConfigFile != "" {
		c := o.Webhook
		c.Logger = log
		w, err := audit.OpenWebhook(c)
		if err != nil {
			return nil, fmt.Errorf("audit webhook: %w", err)
		}
		wg.Go(func() { _ = w.Run(ctx) })
		sinks = append(sinks, w)
		strict = strict || c.Mode == audit.ModeBlockingStrict
	}
	var sink audit.Sink = sinks
	if len(sinks) == 1 {
		sink = sinks[0]
	}
	return audit.New(audit.Config{Policy: policy, Sink: sink, Strict: strict, Logger: log})
}
