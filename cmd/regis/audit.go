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
}
