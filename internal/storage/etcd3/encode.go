package etcd3

import (
	"context"
	"fmt"
	"reflect"
	"unsafe"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"google.golang.org/grpc"
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

// optimisticPut is kubernetes.Client's OptimisticPut with the etcd
// request built here (txnRequest) rather than by clientv3's txn builder,
// which clones each comparison twice through reflection and copies the
// key and the value (the value a third time: the caller's slice, the
// string OpPut takes, the request's []byte).
func (s *Store) optimisticPut(ctx context.Context, key string, value []byte, expectedRevision int64, opts kubernetes.PutOptions) (kubernetes.PutResponse, error) {
	var resp kubernetes.PutResponse
	txnResp, err := s.txn(ctx, key, expectedRevision,
		&etcdserverpb.RequestOp{Request: &etcdserverpb.RequestOp_RequestPut{RequestPut: &etcdserverpb.PutRequest{
			Key: keyBytes(key), Value: value, Lease: int64(opts.LeaseID)}}},
		opts.GetOnFailure)
	if err != nil {
		return resp, err
	}
	resp.Succeeded = txnResp.Succeeded
	resp.Revision = txnResp.Header.Revision
	if opts.GetOnFailure && !txnResp.Succeeded {
		resp.KV, err = failureKV(txnResp, "OptimisticPut")
	}
	return resp, err
}

// optimisticDelete is kubernetes.Client's OptimisticDelete, its request
// built as optimisticPut's.
func (s *Store) optimisticDelete(ctx context.Context, key string, expectedRevision int64, opts kubernetes.DeleteOptions) (kubernetes.DeleteResponse, error) {
	var resp kubernetes.DeleteResponse
	txnResp, err := s.txn(ctx, key, expectedRevision,
		&etcdserverpb.RequestOp{Request: &etcdserverpb.RequestOp_RequestDeleteRange{RequestDeleteRange: &etcdserverpb.DeleteRangeRequest{
			Key: keyBytes(key)}}},
		opts.GetOnFailure)
	if err != nil {
		return resp, err
	}
	resp.Succeeded = txnResp.Succeeded
	resp.Revision = txnResp.Header.Revision
	if opts.GetOnFailure && !txnResp.Succeeded {
		resp.KV, err = failureKV(txnResp, "OptimisticDelete")
	}
	return resp, err
}

// failureKV is the value a failed txn's else branch read (the key's
// current one, nil when it has none).
func failureKV(r *clientv3.TxnResponse, op string) (*mvccpb.KeyValue, error) {
	if len(r.Responses) == 0 {
		return nil, fmt.Errorf("invalid %s response: %v", op, r.Responses)
	}
	return kvFromTxnResponse(r.Responses[0]), nil
}

// txn commits "if key's mod revision is rev then op [else get key]": the
// request clientv3's builder makes for
// Txn(ctx).If(Compare(ModRevision(key), "=", rev)).Then(op).Else(OpGet(key)).
// It goes through a clientv3.KV of the client's connection and call
// options (clientv3.NewKV's), as the builder's Commit would; when the
// client's KV is not its own (a test's recorder wrapping it) the builder
// is used, so that the wrapper sees the write.
func (s *Store) txn(ctx context.Context, key string, rev int64, op *etcdserverpb.RequestOp, getOnFailure bool) (*clientv3.TxnResponse, error) {
	if s.remote == nil {
		return s.builtTxn(ctx, key, rev, op, getOnFailure)
	}
	// Commit sends the (empty) request it built through remote, which
	// sends ours instead, with the client's call options, and handles
	// errors as it does for any txn.
	req := txnRequest(key, rev, op, getOnFailure)
	return clientv3.NewKVFromKVClient(&preparedTxn{KVClient: s.remote, req: req}, s.client).Txn(ctx).Commit()
}

// txnRequest is the request of txn.
func txnRequest(key string, rev int64, op *etcdserverpb.RequestOp, getOnFailure bool) *etcdserverpb.TxnRequest {
	k := keyBytes(key)
	req := &etcdserverpb.TxnRequest{
		Compare: []*etcdserverpb.Compare{{Key: k, Target: etcdserverpb.Compare_MOD, Result: etcdserverpb.Compare_EQUAL,
			TargetUnion: &etcdserverpb.Compare_ModRevision{ModRevision: rev}}},
		Success: []*etcdserverpb.RequestOp{op},
	}
	if getOnFailure {
		req.Failure = []*etcdserverpb.RequestOp{{Request: &etcdserverpb.RequestOp_RequestRange{RequestRange: &etcdserverpb.RangeRequest{Key: k}}}}
	}
	return req
}

// builtTxn is txn through the client's KV and clientv3's builder.
func (s *Store) builtTxn(ctx context.Context, key string, rev int64, op *etcdserverpb.RequestOp, getOnFailure bool) (*clientv3.TxnResponse, error) {
	var then clientv3.Op
	switch r := op.Request.(type) {
	case *etcdserverpb.RequestOp_RequestPut:
		p := r.RequestPut
		then = clientv3.OpPut(key, unsafe.String(unsafe.SliceData(p.Value), len(p.Value)), clientv3.WithLease(clientv3.LeaseID(p.Lease)))
	default:
		then = clientv3.OpDelete(key)
	}
	txn := s.client.KV.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).Then(then)
	if getOnFailure {
		txn = txn.Else(clientv3.OpGet(key))
	}
	return txn.Commit()
}

// preparedTxn sends its request in place of the one a clientv3 txn
// builds.
type preparedTxn struct {
	etcdserverpb.KVClient
	req *etcdserverpb.TxnRequest
}

func (p *preparedTxn) Txn(ctx context.Context, _ *etcdserverpb.TxnRequest, opts ...grpc.CallOption) (*etcdserverpb.TxnResponse, error) {
	return p.KVClient.Txn(ctx, p.req, opts...)
}

// ownKVType is the type of the KV clientv3.New gives a client.
var ownKVType = reflect.TypeOf(clientv3.NewKVFromKVClient(nil, nil))

// directKV is the KV client of c's connection when c's KV is its own
// (clientv3.NewKV's), nil otherwise.
func directKV(c *clientv3.Client) etcdserverpb.KVClient {
	if c == nil || reflect.TypeOf(c.KV) != ownKVType || c.ActiveConnection() == nil {
		return nil
	}
	return clientv3.RetryKVClient(c)
}

// keyBytes is a copy of key's bytes (tens of bytes: not worth sharing the
// string's memory).
func keyBytes(key string) []byte {
	return []byte(key)
}

func kvFromTxnResponse(resp *etcdserverpb.ResponseOp) *mvccpb.KeyValue {
	if kvs := resp.GetResponseRange().GetKvs(); len(kvs) == 1 { // nil-safe getters
		return kvs[0]
	}
	return nil
}
