package main

import (
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/server"
)

// addAuditServeFlags adds kube-apiserver's audit log flags to `regis
// serve`.
func addAuditServeFlags(f *pflag.FlagSet, o *server.Options) {
	a := &o.Audit
	f.StringVar(&a.PolicyFile, "audit-policy-file", a.PolicyFile, "Path to the file that defines the audit policy configuration.")
	f.StringVar(&a.LogPath, "audit-log-path", a.LogPath, "If set, all requests coming to the apiserver will be logged to this file.  '-' means standard out.")
	f.IntVar(&a.LogMaxAge, "audit-log-maxage", a.LogMaxAge, "The maximum number of days to retain old audit log files based on the timestamp encoded in their filename. Setting a value of 0 means old audit log files are not removed based on age.")
	f.IntVar(&a.LogMaxBackup, "audit-log-maxbackup", a.LogMaxBackup, "The maximum number of old audit log files to retain. Setting a value of 0 will mean there's no restriction on the number of files.")
	f.IntVar(&a.LogMaxSize, "audit-log-maxsize", a.LogMaxSize, "The maximum size in megabytes of the audit log file before it gets rotated. Setting to 0 disables rotation (not recommended).")
	f.StringVar(&a.LogFormat, "audit-log-format", a.LogFormat, `Format of saved audits. "json" indicates structured json format (upstream's "legacy" 1-line text format is not supported).`)
	f.StringVar(&a.LogMode, "audit-log-mode", a.LogMode, `Strategy for sending audit events. Blocking indicates sending events should block server responses. Batch causes the backend to buffer and write events asynchronously. Known modes are batch,blocking,blocking-strict.`)
	f.IntVar(&a.LogBatchBufferSize, "audit-log-batch-buffer-size", a.LogBatchBufferSize, "The size of the buffer to store events before batching and writing. Only used in batch mode.")
	w := &a.Webhook
	f.StringVar(&w.ConfigFile, "audit-webhook-config-file", w.ConfigFile, "Path to a kubeconfig formatted file that defines the audit webhook configuration.")
	f.DurationVar(&w.InitialBackoff, "audit-webhook-initial-backoff", w.InitialBackoff, "The amount of time to wait before retrying the first failed request.")
	f.StringVar(&w.Mode, "audit-webhook-mode", w.Mode, "Strategy for sending audit events. Blocking indicates sending events should block server responses. Batch causes the backend to buffer and write events asynchronously. Known modes are batch,blocking,blocking-strict.")
	f.IntVar(&w.BufferSize, "audit-webhook-batch-buffer-size", w.BufferSize, "The size of the buffer to store events before batching and writing. Only used in batch mode.")
	f.IntVar(&w.MaxSize, "audit-webhook-batch-max-size", w.MaxSize, "The maximum size of a batch. Only used in batch mode.")
	f.DurationVar(&w.MaxWait, "audit-webhook-batch-max-wait", w.MaxWait, "The amount of time to wait before force writing the batch that hadn't reached the max size. Only used in batch mode.")
	f.BoolVar(&w.Throttle, "audit-webhook-batch-throttle-enable", w.Throttle, "Whether batching throttling is enabled. Only used in batch mode.")
	f.Float32Var(&w.QPS, "audit-webhook-batch-throttle-qps", w.QPS, "Maximum average number of batches per second. Only used in batch mode.")
	f.IntVar(&w.Burst, "audit-webhook-batch-throttle-burst", w.Burst, "Maximum number of requests sent at the same moment if ThrottleQPS was not utilized before. Only used in batch mode.")
	f.StringVar(&w.Version, "audit-webhook-version", "audit.k8s.io/v1", "API group and version used for serializing audit events written to webhook.")
}
