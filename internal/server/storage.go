package server

import (
	"io"
	"log/slog"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/etcd3"
	"github.com/regis-dev/regis/internal/storage/value"
)

// EtcdConfig configures EtcdStorage.
type EtcdConfig struct {
	// Client is the etcd client every store shares.
	Client *clientv3.Client
	// Prefix is --etcd-prefix ("/registry").
	Prefix string
	// MediaType is --storage-media-type ("" is protobuf).
	MediaType string
	// Transformer returns the transformer of a resource (encryption at
	// rest); nil means identity for all.
	Transformer func(gr schema.GroupResource) value.Transformer
	// Compactor reports compactions; nil means none observed.
	Compactor etcd3.Compactor
	// Logger receives the stores' logs.
	Logger *slog.Logger
	// Metrics are the stores' collectors, one set per server, registered
	// by the server; nil gives each store a private, unregistered set.
	Metrics *etcd3.Metrics
	// Overrides are the etcd clusters of some resources
	// (--etcd-servers-overrides); events.k8s.io events follow core events.
	Overrides map[schema.GroupResource]StoreBackend
}

// EtcdStorage returns a registry.StorageFactory of etcd3 stores laid out as
// kube-apiserver lays them out: each resource under "/"+its prefix, encoded
// at its storage version with MediaType.
func EtcdStorage(c EtcdConfig) registry.StorageFactory {
	return func(r *registry.Resource) (storage.Interface, error) {
		var cdc runtime.Codec
		if r.Custom {
			cdc = codec.NewCustom(r.Storage())
		} else {
			var err error
			if cdc, err = codec.New(storageMediaType(c.MediaType, r), r.Storage()); err != nil {
				return nil, err
			}
		}
		newFunc, newList := r.New, r.NewList
		if conv := r.Convert; conv != nil {
			newFunc, newList = conv.NewStored, conv.NewStoredList
		} else if r.Default != nil {
			cdc = defaultingCodec{Codec: cdc, defaults: r.Default}
		}
		var tr value.Transformer
		gr := r.GroupResource()
		if gr.Group == "events.k8s.io" { // stored as core events, encrypted as them
			gr = schema.GroupResource{Resource: "events"}
		}
		if c.Transformer != nil {
			tr = c.Transformer(gr)
		}
		client, compactor := c.Client, c.Compactor
		if ov, ok := c.Overrides[gr]; ok {
			client, compactor = ov.Client, ov.Compactor
		}
		return etcd3.New(etcd3.Config{
			Client:                 client,
			Codec:                  cdc,
			NewFunc:                newFunc,
			NewListFunc:            newList,
			Prefix:                 c.Prefix,
			ResourcePrefix:         registry.RootKey(r.EtcdPrefix()),
			GroupResource:          r.GroupResource(),
			Transformer:            tr,
			Compactor:              compactor,
			AggregateCorruptErrors: true,
			Logger:                 c.Logger,
			Metrics:                c.Metrics,
		})
	}
}

// storageMediaType returns the media type a resource is stored with:
// --storage-media-type for kube-apiserver's own groups, JSON for the
// others (APIServices), whose servers embedded in kube-apiserver (the
// aggregator, apiextensions) store with a JSON LegacyCodec whatever the
// flag says (reference §4.1).
func storageMediaType(flag string, r *registry.Resource) string {
	if registry.IsBuiltinGroup(r.Group) {
		return flag
	}
	return codec.MediaTypeJSON
}

// defaultingCodec sets the resource's defaults on every object it decodes,
// as upstream's storage decoder does: an object stored before a default
// existed, or stored without one because the strategy ran after the
// defaults (a job's labels, copied from its template's), reads as
// kube-apiserver serves it.
type defaultingCodec struct {
	runtime.Codec
	defaults func(runtime.Object)
}

// DefaultDecoded sets the defaults Decode sets (etcd3.DecodeDefaulter).
func (c defaultingCodec) DefaultDecoded(obj runtime.Object) { c.defaults(obj) }

// EncodeWithAllocator passes the allocator of the store's encode on.
func (c defaultingCodec) EncodeWithAllocator(obj runtime.Object, w io.Writer, a runtime.MemoryAllocator) error {
	if ea, ok := c.Codec.(runtime.EncoderWithAllocator); ok {
		return ea.EncodeWithAllocator(obj, w, a)
	}
	return c.Codec.Encode(obj, w)
}

func (c defaultingCodec) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, got, err := c.Codec.Decode(data, gvk, into)
	if err == nil {
		c.defaults(obj)
	}
	return obj, got, err
}
