package etcd3

import (
	"context"
	"fmt"
	"unsafe"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"k8s.io/apimachinery/pkg/runtime"
)

// encode returns obj's encoding in memory of its own, which the caller
// keeps (the write's value, the copy left for its watch event).
// runtime.Encode would write it into a bytes.Buffer grown from nothing,
// after the protobuf serializer has already encoded it into a slice of its
// exact size: through a codec that takes an allocator, that slice is the
// result; otherwise the encoding is copied once into a slice sized from
// the store's last encode.
func (s *Store) encode(obj runtime.Object) ([]byte, error) {
	b := encodeBuf{hint: int(s.lastEncoded.Load())}
	var err error
	if ea, ok := s.codec.(runtime.EncoderWithAllocator); ok {
		err = ea.EncodeWithAllocator(obj, &b, &b)
	} else {
		err = s.codec.Encode(obj, &b)
	}
	if err != nil {
		return nil, err
	}
	s.lastEncoded.Store(int64(len(b.out)))
	return b.out, nil
}

// encodeBuf is the allocator and the writer of one encode: it allocates
// fresh memory, and a write of memory it allocated is taken as it is
// (nothing else has it); any other write is copied, as a writer must.
type encodeBuf struct {
	hint  int    // the expected size of the encoding
	alloc []byte // the last allocation
	out   []byte
}

var _ runtime.MemoryAllocator = (*encodeBuf)(nil)

// Allocate implements runtime.MemoryAllocator.
func (b *encodeBuf) Allocate(n uint64) []byte {
	b.alloc = make([]byte, n)
	return b.alloc
}

func (b *encodeBuf) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.out == nil && len(b.alloc) > 0 && &p[0] == &b.alloc[0] {
		b.out, b.alloc = p, nil // the encoder is done with its buffer: keep it
		return len(p), nil
	}
	if b.out == nil {
		b.out = make([]byte, 0, max(b.hint, len(p)))
	}
	b.out = append(b.out, p...)
	return len(p), nil
}

// optimisticPut is kubernetes.Client's OptimisticPut without its string
// copy of the value (clientv3.OpPut copies it once more, into the request).
func (s *Store) optimisticPut(ctx context.Context, key string, value []byte, expectedRevision int64, opts kubernetes.PutOptions) (kubernetes.PutResponse, error) {
	var resp kubernetes.PutResponse
	txn := s.client.KV.Txn(ctx).If(
		clientv3.Compare(clientv3.ModRevision(key), "=", expectedRevision),
	).Then(
		clientv3.OpPut(key, unsafe.String(unsafe.SliceData(value), len(value)), clientv3.WithLease(opts.LeaseID)),
	)
	if opts.GetOnFailure {
		txn = txn.Else(clientv3.OpGet(key))
	}
	txnResp, err := txn.Commit()
	if err != nil {
		return resp, err
	}
	resp.Succeeded = txnResp.Succeeded
	resp.Revision = txnResp.Header.Revision
	if opts.GetOnFailure && !txnResp.Succeeded {
		if len(txnResp.Responses) == 0 {
			return resp, fmt.Errorf("invalid OptimisticPut response: %v", txnResp.Responses)
		}
		resp.KV = kvFromTxnResponse(txnResp.Responses[0])
	}
	return resp, nil
}

func kvFromTxnResponse(resp *etcdserverpb.ResponseOp) *mvccpb.KeyValue {
	getResponse := resp.GetResponseRange()
	if len(getResponse.Kvs) == 1 {
		return getResponse.Kvs[0]
	}
	return nil
}
