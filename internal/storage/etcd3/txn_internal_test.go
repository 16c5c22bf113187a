package etcd3

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// capturingKV records the txn request a clientv3 KV sends.
type capturingKV struct {
	etcdserverpb.KVClient
	got *etcdserverpb.TxnRequest
}

func (c *capturingKV) Txn(_ context.Context, r *etcdserverpb.TxnRequest, _ ...grpc.CallOption) (*etcdserverpb.TxnResponse, error) {
	c.got = r
	return &etcdserverpb.TxnResponse{Header: &etcdserverpb.ResponseHeader{}}, nil
}

// The transactions the store builds itself are, byte for byte on the
// wire, those clientv3's builder makes (kubernetes.Client's OptimisticPut
// and OptimisticDelete).
func TestTxnRequestIsBuilders(t *testing.T) {
	key := "/registry/pods/ns/a"
	value := []byte("k8s\x00" + strings.Repeat("v", 300))
	for _, tc := range []struct {
		name         string
		rev          int64
		lease        clientv3.LeaseID
		del          bool
		getOnFailure bool
	}{
		{name: "create", rev: 0},
		{name: "create with a lease", rev: 0, lease: 7},
		{name: "update", rev: 42, getOnFailure: true},
		{name: "delete", rev: 42, del: true, getOnFailure: true},
		{name: "delete without get", rev: 9, del: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var then clientv3.Op
			var op *etcdserverpb.RequestOp
			if tc.del {
				then = clientv3.OpDelete(key)
				op = &etcdserverpb.RequestOp{Request: &etcdserverpb.RequestOp_RequestDeleteRange{RequestDeleteRange: &etcdserverpb.DeleteRangeRequest{Key: keyBytes(key)}}}
			} else {
				then = clientv3.OpPut(key, string(value), clientv3.WithLease(tc.lease))
				op = &etcdserverpb.RequestOp{Request: &etcdserverpb.RequestOp_RequestPut{RequestPut: &etcdserverpb.PutRequest{Key: keyBytes(key), Value: value, Lease: int64(tc.lease)}}}
			}
			capture := &capturingKV{}
			txn := clientv3.NewKVFromKVClient(capture, nil).Txn(context.Background()).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", tc.rev)).Then(then)
			if tc.getOnFailure {
				txn = txn.Else(clientv3.OpGet(key))
			}
			if _, err := txn.Commit(); err != nil {
				t.Fatal(err)
			}
			want, err := marshal(capture.got)
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshal(txnRequest(key, tc.rev, op, tc.getOnFailure))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("request:\n got %q\nwant %q", got, want)
			}

			// And the store's own path sends it.
			capture.got = nil
			s := &Store{remote: capture}
			if _, err := s.txn(context.Background(), key, tc.rev, op, tc.getOnFailure); err != nil {
				t.Fatal(err)
			}
			if sent, _ := marshal(capture.got); !bytes.Equal(sent, want) {
				t.Errorf("sent %q, want %q", sent, want)
			}
		})
	}
}
