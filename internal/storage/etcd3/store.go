// Package etcd3 is the storage.Interface over the etcd v3 API, with
// kube-apiserver's semantics and byte layout: values are encoded by a codec,
// transformed (encrypted) with the etcd key as authenticated data, and
// written with compare-and-swap transactions on the key's mod revision.
package etcd3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/value"
)

// DefaultMaxRequestBytes is etcd's default request size limit (--max-request-bytes).
const DefaultMaxRequestBytes = 1536 * 1024

// Compactor reports the newest compaction revision it has observed.
type Compactor interface {
	CompactRevision() int64
}

// Config builds a Store for one resource.
type Config struct {
	// Client is the etcd client. Its KV, Watcher and Lease are used.
	Client *clientv3.Client
	// Codec encodes objects to the stored format and decodes any stored format.
	Codec runtime.Codec
	// NewFunc and NewListFunc make empty objects and lists of the resource.
	NewFunc, NewListFunc func() runtime.Object
	// Prefix is the etcd key prefix (--etcd-prefix, "/registry").
	Prefix string
	// ResourcePrefix is the resource's key prefix, e.g. "/pods" or "/services/specs".
	ResourcePrefix string
	// GroupResource labels metrics and errors.
	GroupResource schema.GroupResource
	// Transformer transforms values to and from storage (identity when nil).
	Transformer value.Transformer
	// Versioner maps resourceVersions (APIObjectVersioner when nil).
	Versioner storage.Versioner
	// Lease configures lease reuse for TTL writes (upstream's defaults when zero).
	Lease LeaseConfig
	// Compactor reports compactions (none when nil).
	Compactor Compactor
	// MaxRequestBytes refuses writes etcd would refuse (DefaultMaxRequestBytes when 0).
	MaxRequestBytes int
	// AggregateCorruptErrors makes a list collect up to 100 undecryptable or
	// undecodable objects into one StoreReadError instead of failing on the
	// first (upstream's AllowUnsafeMalformedObjectDeletion, on by default).
	AggregateCorruptErrors bool
	// Logger receives retry and failure logs (slog.Default when nil).
	Logger *slog.Logger
	// Metrics are the collectors the store counts into, shared by the
	// stores of one server; nil means a private set nobody registers.
	Metrics *Metrics
}

// Store implements storage.Interface on etcd.
type Store struct {
	client          *clientv3.Client
	kv              kubernetes.Client
	remote          etcdserverpb.KVClient // writes' transactions (encode.go); nil: through kv
	codec           runtime.Codec
	newFunc         func() runtime.Object
	newListFunc     func() runtime.Object
	pathPrefix      string
	resourcePrefix  string
	groupResource   schema.GroupResource
	transformer     value.Transformer
	versioner       storage.Versioner
	leases          *leaseManager
	compactor       Compactor
	maxRequestBytes int
	aggregate       bool
	log             *slog.Logger
	metrics         *Metrics

	estimatorMu sync.RWMutex
	estimator   *sizeEstimator

	plans plans // how a decode leaves each type written (decoded.go)

	recent recentWrites // copies of written objects for their watch events (recent.go)

	lastEncoded atomic.Int64 // the size of the last encoding written (encode.go)
}

var _ storage.Interface = (*Store)(nil)

// New returns a store for one resource.
func New(c Config) (*Store, error) {
	if c.Client == nil {
		return nil, errors.New("etcd3: Client is required")
	}
	if c.Codec == nil || c.NewFunc == nil || c.NewListFunc == nil {
		return nil, errors.New("etcd3: Codec, NewFunc and NewListFunc are required")
	}
	switch {
	case c.ResourcePrefix == "":
		return nil, fmt.Errorf("resourcePrefix cannot be empty")
	case c.ResourcePrefix == "/":
		return nil, fmt.Errorf("resourcePrefix cannot be /")
	case !strings.HasPrefix(c.ResourcePrefix, "/"):
		return nil, fmt.Errorf("resourcePrefix needs to start from /")
	}
	pathPrefix := path.Join("/", c.Prefix)
	if !strings.HasSuffix(pathPrefix, "/") {
		pathPrefix += "/"
	}
	if c.Transformer == nil {
		c.Transformer = value.Identity
	}
	if c.Versioner == nil {
		c.Versioner = storage.APIObjectVersioner{}
	}
	if c.Lease == (LeaseConfig{}) {
		c.Lease = DefaultLeaseConfig()
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	return &Store{
		client:          c.Client,
		kv:              kubernetes.Client{Client: c.Client},
		remote:          directKV(c.Client),
		codec:           c.Codec,
		newFunc:         c.NewFunc,
		newListFunc:     c.NewListFunc,
		pathPrefix:      pathPrefix,
		resourcePrefix:  c.ResourcePrefix,
		groupResource:   c.GroupResource,
		transformer:     c.Transformer,
		versioner:       c.Versioner,
		leases:          newLeaseManager(c.Client.Lease, c.Lease, c.Metrics.leaseObjectCounts),
		compactor:       c.Compactor,
		maxRequestBytes: c.MaxRequestBytes,
		aggregate:       c.AggregateCorruptErrors,
		log:             c.Logger.With("resource", c.GroupResource.String()),
		metrics:         c.Metrics,
	}, nil
}

// Versioner implements storage.Interface.
func (s *Store) Versioner() storage.Versioner { return s.versioner }

// Close releases the store. It owns no goroutine today; callers close it
// so that one that does later is stopped.
func (s *Store) Close() {}

// CompactRevision implements storage.Interface.
func (s *Store) CompactRevision() int64 {
	if s.compactor == nil {
		return 0
	}
	return s.compactor.CompactRevision()
}

// ReadinessCheck implements storage.Interface: the etcd store is always ready.
func (s *Store) ReadinessCheck() error { return nil }

// RequestWatchProgress implements storage.Interface.
func (s *Store) RequestWatchProgress(ctx context.Context) error {
	return s.client.RequestProgress(clientv3.WithRequireLeader(ctx))
}

// GetCurrentResourceVersion implements storage.Interface: a linearizable
// read of the bare resource prefix key, for its header revision.
func (s *Store) GetCurrentResourceVersion(ctx context.Context) (uint64, error) {
	key, err := s.prepareKey(s.resourcePrefix, false)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := s.kv.Get(ctx, key, kubernetes.GetOptions{})
	s.metrics.recordRequest("getCurrentResourceVersion", s.groupResource, err, start)
	if err != nil {
		return 0, err
	}
	if resp.Revision == 0 {
		return 0, fmt.Errorf("the current resource version must be greater than 0")
	}
	return uint64(resp.Revision), nil
}

// Get implements storage.Interface.
func (s *Store) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	key, err := s.prepareKey(key, false)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := s.kv.Get(ctx, key, kubernetes.GetOptions{})
	s.metrics.recordRequest("get", s.groupResource, err, start)
	if err != nil {
		return err
	}
	if err := s.validateMinimumResourceVersion(opts.ResourceVersion, uint64(resp.Revision)); err != nil {
		return err
	}
	if resp.KV == nil {
		if opts.IgnoreNotFound {
			return runtime.SetZeroValue(out)
		}
		return storage.NewKeyNotFoundError(key, 0)
	}
	data, _, err := s.transformer.TransformFromStorage(ctx, resp.KV.Value, value.DefaultContext(key))
	if err != nil {
		return storage.NewInternalError(fmt.Errorf("unable to transform key %q: %w", key, err))
	}
	return s.decode(key, data, out, resp.KV.ModRevision)
}

// decode decodes plaintext into out and stamps rev as its resourceVersion.
func (s *Store) decode(key string, data []byte, out runtime.Object, rev int64) error {
	if _, err := conversion.EnforcePtr(out); err != nil {
		return fmt.Errorf("unable to convert output object to pointer: %w", err)
	}
	if _, _, err := s.codec.Decode(data, nil, out); err != nil {
		s.metrics.decodeErrorsTotal.WithLabelValues(s.groupResource.Group, s.groupResource.Resource).Inc()
		return storage.NewInternalError(fmt.Errorf("unable to decode %q: %w", key, err))
	}
	return s.versioner.UpdateObject(out, uint64(rev))
}

func (s *Store) validateMinimumResourceVersion(minimum string, actual uint64) error {
	if minimum == "" {
		return nil
	}
	rv, err := s.versioner.ParseResourceVersion(minimum)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %v", err))
	}
	if rv > actual {
		return storage.NewTooLargeResourceVersionError(rv, actual, 0)
	}
	return nil
}

// prepareKey validates key and returns the etcd key.
func (s *Store) prepareKey(key string, recursive bool) (string, error) {
	key, err := storage.PrepareKey(s.resourcePrefix, key, recursive)
	if err != nil {
		return "", err
	}
	return s.pathPrefix + strings.TrimPrefix(key, "/"), nil
}
