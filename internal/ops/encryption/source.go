package encryption

import (
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/regis-dev/regis/internal/ops/source"
)

// The sources a status scan reads are the operator commands' shared ones
// (internal/ops/source); these names keep this package's API.
type (
	// KV is one key as a scan sees it.
	KV = source.KV
	// Source is what a status scan reads: a live etcd or an etcd database file.
	Source = source.Source
	// HistorySource is a Source that also holds past values.
	HistorySource = source.HistorySource
	// Live is a Source over a running etcd.
	Live = source.Live
	// File is a Source over an etcd database file.
	File = source.File
)

// DefaultPageSize is how many keys a live scan reads per request.
const DefaultPageSize = source.DefaultPageSize

// OpenFile opens an etcd database file, or the database of a data
// directory, read-only.
func OpenFile(path string) (*File, error) { return source.OpenFile(path) }

type mvccKV = mvccpb.KeyValue
