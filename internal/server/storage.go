package server

import (
	"log/slog"

	clientv3 "go.etcd.io/etcd/client/v3"
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
}

// EtcdStorage returns a registry.StorageFactory of etcd3 stores laid out as
// kube-apiserver lays them out: each resource under "/"+its prefix, encoded
// at its storage version with MediaType.
func EtcdStorage(c EtcdConfig) registry.StorageFactory {
	return func(r *registry.Resource) (storage.Interface, error) {
		cdc, err := codec.New(storageMediaType(c.MediaType, r), r.Storage())
		if err != nil {
			return nil, err
		}
		newFunc, newList := r.New, r.NewList
		if conv := r.Convert; conv != nil {
			newFunc, newList = conv.NewStored, conv.NewStoredList
		}
		var tr value.Transformer
		gr := r.GroupResource()
		if gr.Group == "events.k8s.io" { // stored as core events, encrypted as them
			gr = schema.GroupResource{Resource: "events"}
		}
		if c.Transformer != nil {
			tr = c.Transformer(gr)
		}
		return etcd3.New(etcd3.Config{
			Client:                 c.Client,
			Codec:                  cdc,
			NewFunc:                newFunc,
			NewListFunc:            newList,
			Prefix:                 c.Prefix,
			ResourcePrefix:         registry.RootKey(r.EtcdPrefix()),
			GroupResource:          r.GroupResource(),
			Transformer:            tr,
			Compactor:              c.Compactor,
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
