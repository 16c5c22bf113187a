package bench

// Result is one phase of one target: one JSON line.
type Result struct {
	Target string `json:"target"`
	// Phase: create, get, list-rv-empty, list-rv-0, paged, watch,
	// etcd-put, etcd-range, idle.
	Phase       string `json:"phase"`
	Round       int    `json:"round"` // from 1, of Config.Rounds
	ContentType string `json:"contentType,omitempty"`
	// Ops counted: objects created, gets, lists, traversals, updates,
	// puts, ranges.
	Ops     int     `json:"ops"`
	Errors  int     `json:"errors"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"perSec"`
	// Latency of one op in ms; for watch, delivery of one event to one
	// watcher, from the write's acknowledgement.
	P50ms float64 `json:"p50ms"`
	P99ms float64 `json:"p99ms"`
	MaxMs float64 `json:"maxMs"`
	// Items per op (lists, ranges: objects returned).
	Items int `json:"items,omitempty"`
	// WireBytes per op: what the client read from its connections (TLS
	// records, gzip when the server compressed). BodyBytes per op: the
	// response bodies as client-go's transport hands them over,
	// decompressed. Gzip tells whether the server compressed them.
	WireBytes int64 `json:"wireBytes,omitempty"`
	BodyBytes int64 `json:"bodyBytes,omitempty"`
	Gzip      bool  `json:"gzip,omitempty"`
	// ValueBytes: the size of one value in etcd (creates, etcd-put).
	ValueBytes int `json:"valueBytes,omitempty"`

	// The server's process during the phase (when its pid was given).
	ServerCPUSec     float64 `json:"serverCPUSec,omitempty"`
	ServerCPUmsPerOp float64 `json:"serverCPUmsPerOp,omitempty"`
	ServerRSSBytes   int64   `json:"serverRSSBytes,omitempty"`
	// Its etcd's process (when its pid was given).
	EtcdCPUSec   float64 `json:"etcdCPUSec,omitempty"`
	EtcdRSSBytes int64   `json:"etcdRSSBytes,omitempty"`
	// This process (the load generator).
	ClientCPUSec float64 `json:"clientCPUSec"`

	// Watch only: every watcher got every event once, in order.
	Watch *WatchCheck `json:"watchCheck,omitempty"`
}

// WatchCheck is the completeness of a watch fan-out.
type WatchCheck struct {
	Watchers int  `json:"watchers"`
	Expected int  `json:"expectedPerWatcher"`
	Complete bool `json:"complete"`
	// Watchers that got exactly the expected events in order.
	CompleteWatchers int `json:"completeWatchers"`
	Missing          int `json:"missing"`    // expected events never received (all watchers)
	Duplicates       int `json:"duplicates"` // events received more than once
	OutOfOrder       int `json:"outOfOrder"` // events older than one received before
	Unexpected       int `json:"unexpected"` // events of no update of this phase
	// Errors: watch error events or streams that ended early.
	Errors     int    `json:"errors"`
	FirstError string `json:"firstError,omitempty"`
	// BeforeAck: deliveries seen before the write's acknowledgement
	// (counted as 0 ms).
	BeforeAck int `json:"beforeAck"`
	// The same deliveries timed from the moment each update was sent
	// (the update's own latency included), in ms.
	FromSendP50ms float64 `json:"fromSendP50ms"`
	FromSendP99ms float64 `json:"fromSendP99ms"`
	// The latency of the updates themselves (ms).
	UpdateP50ms float64 `json:"updateP50ms"`
	UpdateP99ms float64 `json:"updateP99ms"`
}
