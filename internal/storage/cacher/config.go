package cacher

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage"
)

// Config builds a Cacher for one resource.
type Config struct {
	// Store is the storage the cache is filled from and writes go to: the
	// resource's etcd3 store. Required.
	Store storage.Interface
	// ResourcePrefix is the resource's key prefix, as given to the store
	// ("/pods/"). Required.
	ResourcePrefix string
	// GroupResource labels metrics and logs.
	GroupResource schema.GroupResource
	// NewFunc and NewListFunc make empty objects and lists of the
	// resource. Required.
	NewFunc, NewListFunc func() runtime.Object

	// ClusterScoped says the resource has no namespaces, for the default
	// KeyFunc.
	ClusterScoped bool
	// KeyFunc returns an object's key. Nil: ResourcePrefix followed by
	// "namespace/name" (upstream's NamespaceKeyFunc), or by "name" when
	// ClusterScoped (NoNamespaceKeyFunc).
	KeyFunc func(runtime.Object) (string, error)
	// GetAttrs returns the labels and fields selectors match (the
	// resource's selectable fields). Nil: storage.DefaultNamespaceScopedAttr.
	GetAttrs storage.AttrFunc
	// IndexedFields are fields of GetAttrs indexed for lists whose field
	// selector requires one exact value (for example metadata.name, or
	// spec.nodeName for pods).
	IndexedFields []string
	// TriggerField, when set, is a field of GetAttrs by which watchers are
	// dispatched: a watch whose field selector requires one value of it is
	// only offered the events whose object has (or had) that value
	// (spec.nodeName for pods, so that a kubelet is not offered the pods of
	// other nodes).
	TriggerField string

	// EventsHistoryWindow is how long events are kept at least; zero means
	// DefaultEventsHistoryWindow (75 s), the minimum.
	EventsHistoryWindow time.Duration
	// EventsHistoryMaxBytes bounds the history by the encoded size of its
	// events' objects as well as by count: past it the oldest events are
	// dropped (a watch from before them gets 410 Gone). Zero means
	// DefaultEventsHistoryMaxBytes.
	EventsHistoryMaxBytes int64
	// KeepHistoryDecoded keeps the objects of past events decoded instead
	// of packing them to protobuf. For a store whose values are not
	// protobuf (--storage-media-type=application/json or yaml): a protobuf
	// round trip makes empty lists and maps nil, which JSON writes as null
	// where the field has no omitempty.
	KeepHistoryDecoded bool

	// ObjectSize returns an object's encoded size, counted against the
	// memory limits. Nil: the protobuf size for objects that know it (a
	// Size() method, as the k8s.io/api types have), else the length of
	// Codec's encoding, else 0 (not counted).
	ObjectSize func(runtime.Object) int64
	// Codec is used by the default ObjectSize; may be nil.
	Codec runtime.Encoder
	// MaxBytes is this resource's memory limit (--watch-cache-max-bytes
	// resource#N); 0 means none. Past it, and past Budget, watches are
	// still served from the cache and lists go to etcd.
	MaxBytes int64
	// Budget is the limit shared with the other resources (may be nil).
	Budget *Budget

	// EstimateSizes makes the store estimate object sizes for Stats, with
	// the cache's keys (upstream's SizeBasedListCostEstimate, on by default).
	EstimateSizes bool

	// CompactionPollInterval is how often the store's compaction
	// revision is checked, to drop older snapshots and history; zero
	// means 15 s, as upstream's cacher compactor.
	CompactionPollInterval time.Duration

	// Logger receives the cache's logs (slog.Default when nil).
	Logger *slog.Logger
	// Metrics are the collectors the cache counts into, shared by the
	// caches of one server; nil means a private set nobody registers.
	Metrics *Metrics

	defaultKeys bool // KeyFunc is the default: keys are prefix/[namespace/]name
	defaultSize bool // ObjectSize is the default: the protobuf size

	// freshTimeout is defaultFreshTimeout but in tests (export_test.go).
	freshTimeout time.Duration
	// probing is defaultProbing but in tests (export_test.go).
	probing probing
}

// probing paces the reflector's progress requests until etcd answers one:
// probes of them every every, then one every retry.
type probing struct {
	every  time.Duration
	probes int
	retry  time.Duration
}

// defaultProbing: 40 requests 250 ms apart (10 s), then one every 5 s.
var defaultProbing = probing{every: 250 * time.Millisecond, probes: 40, retry: 5 * time.Second}

// Timing constants, as upstream's.
const (
	// bookmarkFrequency is how often a watcher that allows bookmarks gets
	// one at least (defaultBookmarkFrequency).
	bookmarkFrequency = time.Minute
	// defaultFreshTimeout bounds the wait for the cache to reach a
	// requested revision (blockTimeout); then the read goes to etcd when
	// etcd has that revision, else fails with "Too large resource version".
	defaultFreshTimeout = 3 * time.Second
	// tooLargeRetrySeconds is the Retry-After of that error.
	tooLargeRetrySeconds = 1
	// progressRequestInterval paces progress requests while a read waits.
	progressRequestInterval = 100 * time.Millisecond
	// incomingBufSize decouples the reflector from the dispatcher.
	incomingBufSize = 100
	// listPageSize pages the cache's lists of etcd.
	listPageSize = 10000
	// maxWatchRetryDuration is how long the reflector retries a failing
	// etcd watch before the cache reports not ready
	// (MaxInternalErrorRetryDuration).
	maxWatchRetryDuration = 30 * time.Second
	// defaultCompactionPollInterval is upstream's compactor period.
	defaultCompactionPollInterval = 15 * time.Second
)

func (c *Config) complete() error {
	switch {
	case c.Store == nil:
		return errors.New("cacher: Store is required")
	case c.NewFunc == nil || c.NewListFunc == nil:
		return errors.New("cacher: NewFunc and NewListFunc are required")
	case c.ResourcePrefix == "":
		return errors.New("resourcePrefix cannot be empty")
	case c.ResourcePrefix == "/":
		return errors.New("resourcePrefix cannot be /")
	case !strings.HasPrefix(c.ResourcePrefix, "/"):
		return errors.New("resourcePrefix needs to start from /")
	case c.EventsHistoryWindow != 0 && c.EventsHistoryWindow < DefaultEventsHistoryWindow:
		return fmt.Errorf("cacher: EventsHistoryWindow (%v) must not be below %v", c.EventsHistoryWindow, DefaultEventsHistoryWindow)
	case c.EventsHistoryMaxBytes < 0:
		return errors.New("cacher: EventsHistoryMaxBytes must not be negative")
	case c.MaxBytes < 0:
		return errors.New("cacher: MaxBytes must not be negative")
	}
	if c.EventsHistoryWindow == 0 {
		c.EventsHistoryWindow = DefaultEventsHistoryWindow
	}
	if c.EventsHistoryMaxBytes == 0 {
		c.EventsHistoryMaxBytes = DefaultEventsHistoryMaxBytes
	}
	if c.KeyFunc == nil {
		c.defaultKeys = true
		prefix := strings.TrimSuffix(c.ResourcePrefix, "/") + "/"
		clusterScoped := c.ClusterScoped
		c.KeyFunc = func(obj runtime.Object) (string, error) { return defaultKey(prefix, obj, clusterScoped) }
	}
	if c.GetAttrs == nil {
		c.GetAttrs = storage.DefaultNamespaceScopedAttr
	}
	if c.ObjectSize == nil {
		c.defaultSize = true
		c.ObjectSize = defaultObjectSize(c.Codec)
	}
	if c.CompactionPollInterval == 0 {
		c.CompactionPollInterval = defaultCompactionPollInterval
	}
	if c.freshTimeout == 0 {
		c.freshTimeout = defaultFreshTimeout
	}
	if c.probing == (probing{}) {
		c.probing = defaultProbing
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	return nil
}

// defaultKey is upstream's NamespaceKeyFunc, or NoNamespaceKeyFunc for a
// cluster-scoped resource.
func defaultKey(prefix string, obj runtime.Object, clusterScoped bool) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", err
	}
	name := m.GetName()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/%") {
		return "", fmt.Errorf("invalid name: %q", name)
	}
	if clusterScoped {
		return prefix + name, nil
	}
	return prefix + m.GetNamespace() + "/" + name, nil
}

// sizer is what the k8s.io/api types (gogo protobuf) implement.
type sizer interface{ Size() int }

func defaultObjectSize(codec runtime.Encoder) func(runtime.Object) int64 {
	return func(obj runtime.Object) int64 {
		if s, ok := obj.(sizer); ok {
			return int64(s.Size())
		}
		if codec == nil {
			return 0
		}
		data, err := runtime.Encode(codec, obj)
		if err != nil {
			return 0
		}
		return int64(len(data))
	}
}
