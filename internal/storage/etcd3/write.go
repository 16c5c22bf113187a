package etcd3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/value"
)

// Create implements storage.Interface.
func (s *Store) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	key, err := s.prepareKey(key, false)
	if err != nil {
		return err
	}
	if rv, err := s.versioner.ObjectResourceVersion(obj); err == nil && rv != 0 {
		return storage.ErrResourceVersionSetOnCreate
	}
	if err := s.versioner.PrepareObjectForStorage(obj); err != nil {
		return fmt.Errorf("PrepareObjectForStorage failed: %w", err)
	}
	data, err := s.encode(obj)
	if err != nil {
		return err
	}
	newData, lease, err := s.prepareWrite(ctx, key, data, ttl)
	if err != nil {
		return err
	}
	pre := s.prepareWritten(key, obj, out, data, newData)
	start := time.Now()
	resp, err := s.optimisticPut(ctx, key, newData, 0, kubernetes.PutOptions{LeaseID: lease})
	s.metrics.recordRequest("create", s.groupResource, err, start)
	if err != nil {
		s.recent.forget(key, pre.copy)
		return s.writeError(key, newData, err)
	}
	if !resp.Succeeded {
		s.recent.forget(key, pre.copy)
		return storage.NewKeyExistsError(key, 0)
	}
	if out != nil {
		return s.written(key, obj, out, data, newData, resp.Revision, pre)
	}
	return nil
}

// prepared is what prepareWritten did before a write.
type prepared struct {
	decoded bool         // obj was made what decoding its encoding gives
	copy    *recentWrite // the copy left for the write's event, or nil
}

// prepareWritten makes obj, encoded as data and about to be stored as
// stored, what decoding data into out's type gives (less the
// resourceVersion), when it can, and then, while a watch of the store
// runs, leaves a copy of it for the write's event (recent.go). obj is
// consumed. The caller passes the result to written, or, when the write
// fails, forgets the copy.
func (s *Store) prepareWritten(key string, obj, out runtime.Object, data, stored []byte) prepared {
	if out == nil || !s.normalize(obj, out, data) {
		return prepared{}
	}
	if d, ok := s.codec.(DecodeDefaulter); ok {
		d.DefaultDecoded(obj) // what the codec's Decode adds to what it decodes
	}
	pre := prepared{decoded: true}
	if s.recent.wanted() && s.keepsWritten(obj) {
		pre.copy = s.recent.expect(key, stored, data, obj.DeepCopyObject())
	}
	return pre
}

// written sets out to the object a write stored, with its new
// resourceVersion: obj itself made into what decoding data would give
// (by prepareWritten before the write, or here), or when that cannot be
// done for obj's type or values, data decoded. obj is consumed. stored
// is the value written to etcd (nil: nothing was written); while a watch
// of the store runs, a copy of out is left for the write's event, unless
// prepareWritten left one.
func (s *Store) written(key string, obj, out runtime.Object, data, stored []byte, rev int64, pre prepared) error {
	if pre.decoded {
		moveDecoded(obj, out)
		s.recent.wrote(pre.copy, rev)
		return s.versioner.UpdateObject(out, uint64(rev))
	}
	if s.asDecoded(obj, out, data) {
		if d, ok := s.codec.(DecodeDefaulter); ok {
			d.DefaultDecoded(out) // what the codec's Decode adds to what it decodes
		}
		if err := s.versioner.UpdateObject(out, uint64(rev)); err != nil {
			return err
		}
	} else if err := s.decode(key, data, out, rev); err != nil {
		return err
	}
	if stored != nil && s.recent.wanted() && s.keepsWritten(out) {
		s.recent.wrote(s.recent.expect(key, stored, data, out.DeepCopyObject()), rev)
	}
	return nil
}

// keepsWritten reports whether the watch may take out for its event: a
// typed object of the type the store decodes (a custom resource's codec
// may decode a watch event otherwise than into an object).
func (s *Store) keepsWritten(out runtime.Object) bool {
	if _, ok := out.(*unstructured.Unstructured); ok {
		return false
	}
	return reflect.TypeOf(out) == s.recent.typeOf(s.newFunc)
}

// DecodeDefaulter is a codec that sets defaults on the objects it
// decodes (a job's labels copied from its template's, as upstream's
// storage decoder): the object a write returns without a decode gets
// them from DefaultDecoded.
type DecodeDefaulter interface {
	DefaultDecoded(obj runtime.Object)
}

// Delete implements storage.Interface.
func (s *Store) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc, cachedExistingObject runtime.Object, opts storage.DeleteOptions) error {
	key, err := s.prepareKey(key, false)
	if err != nil {
		return err
	}
	v, err := conversion.EnforcePtr(out)
	if err != nil {
		return fmt.Errorf("unable to convert output object to pointer: %w", err)
	}
	unsafe := opts.ExpectTransformOrDecodeError
	current := func() (*objState, error) { return s.currentState(ctx, key, v, false, unsafe) }

	var st *objState
	fresh := false
	if cachedExistingObject != nil && !unsafe {
		st, err = s.stateFromObject(cachedExistingObject)
	} else {
		st, err = current()
		fresh = true
	}
	if err != nil {
		return err
	}
	for {
		checkErr := preconditions.Check(key, st.obj)
		if checkErr == nil && validateDeletion != nil {
			checkErr = validateDeletion(ctx, st.obj)
		}
		if checkErr != nil {
			if fresh {
				return checkErr
			}
			// The suggestion may be stale: re-read, and if it was not, the error stands.
			cachedRev := st.rev
			if st, err = current(); err != nil {
				return err
			}
			fresh = true
			if cachedRev == st.rev {
				return checkErr
			}
			continue
		}
		start := time.Now()
		resp, err := s.optimisticDelete(ctx, key, st.rev, kubernetes.DeleteOptions{GetOnFailure: true})
		s.metrics.recordRequest("delete", s.groupResource, err, start)
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			s.log.Debug("deletion failed because of a conflict, going to retry", "key", key)
			if st, err = s.state(ctx, resp.KV, key, v, false, unsafe); err != nil {
				return err
			}
			fresh = true
			continue
		}
		if unsafe {
			return nil
		}
		return s.decode(key, st.data, out, resp.Revision)
	}
}

// GuaranteedUpdate implements storage.Interface.
func (s *Store) GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc, cachedExistingObject runtime.Object) error {
	key, err := s.prepareKey(key, false)
	if err != nil {
		return err
	}
	v, err := conversion.EnforcePtr(destination)
	if err != nil {
		return fmt.Errorf("unable to convert output object to pointer: %w", err)
	}
	current := func() (*objState, error) { return s.currentState(ctx, key, v, ignoreNotFound, false) }

	var st *objState
	fresh := false
	if cachedExistingObject != nil {
		st, err = s.stateFromObject(cachedExistingObject)
	} else {
		st, err = current()
		fresh = true
	}
	if err != nil {
		return err
	}
	for {
		if err := preconditions.Check(key, st.obj); err != nil {
			if fresh {
				return err
			}
			if st, err = current(); err != nil {
				return err
			}
			fresh = true
			continue
		}
		ret, ttl, err := s.updateState(st, tryUpdate)
		if err != nil {
			if fresh {
				return err
			}
			cachedRev, updateErr := st.rev, err
			if st, err = current(); err != nil {
				return err
			}
			fresh = true
			if cachedRev == st.rev {
				return updateErr
			}
			continue
		}
		data, err := s.encode(ret)
		if err != nil {
			return err
		}
		if !st.stale && bytes.Equal(data, st.data) {
			// Nothing changed. A suggestion must be confirmed against etcd
			// before the write is skipped.
			if !fresh {
				if st, err = current(); err != nil {
					return err
				}
				fresh = true
				if !bytes.Equal(data, st.data) {
					continue
				}
			}
			if !st.stale {
				// ret encodes to the stored bytes: it is returned as
				// their decode would be.
				return s.written(key, ret, destination, data, nil, st.rev, prepared{})
			}
		}
		newData, lease, err := s.prepareWrite(ctx, key, data, ttl)
		if err != nil {
			return err
		}
		pre := s.prepareWritten(key, ret, destination, data, newData)
		start := time.Now()
		resp, err := s.optimisticPut(ctx, key, newData, st.rev, kubernetes.PutOptions{GetOnFailure: true, LeaseID: lease})
		s.metrics.recordRequest("update", s.groupResource, err, start)
		if err != nil {
			s.recent.forget(key, pre.copy)
			return s.writeError(key, newData, err)
		}
		if !resp.Succeeded {
			s.recent.forget(key, pre.copy)
			s.log.Debug("update failed because of a conflict, going to retry", "key", key)
			if st, err = s.state(ctx, resp.KV, key, v, ignoreNotFound, false); err != nil {
				return err
			}
			fresh = true
			continue
		}
		return s.written(key, ret, destination, data, newData, resp.Revision, pre)
	}
}

// objState is what a write loop knows of the current object.
type objState struct {
	obj   runtime.Object
	rev   int64
	data  []byte // plaintext encoding
	stale bool   // written by a transformer that is no longer the write transformer
}

func (s *Store) currentState(ctx context.Context, key string, v reflect.Value, ignoreNotFound, unsafe bool) (*objState, error) {
	start := time.Now()
	resp, err := s.kv.Get(ctx, key, kubernetes.GetOptions{})
	s.metrics.recordRequest("get", s.groupResource, err, start)
	if err != nil {
		return nil, err
	}
	return s.state(ctx, resp.KV, key, v, ignoreNotFound, unsafe)
}

// state builds an objState from an etcd value. With unsafe (deleting a
// corrupt object), a value that can be read is an error, and one that
// cannot leaves obj nil.
func (s *Store) state(ctx context.Context, kv *mvccpb.KeyValue, key string, v reflect.Value, ignoreNotFound, unsafe bool) (*objState, error) {
	st := &objState{}
	if u, ok := v.Addr().Interface().(runtime.Unstructured); ok {
		st.obj = u.NewEmptyInstance()
	} else {
		st.obj = reflect.New(v.Type()).Interface().(runtime.Object)
	}
	if kv == nil {
		if !ignoreNotFound {
			return nil, storage.NewKeyNotFoundError(key, 0)
		}
		if err := runtime.SetZeroValue(st.obj); err != nil {
			return nil, err
		}
		return st, nil
	}
	st.rev = kv.ModRevision
	data, stale, err := s.transformer.TransformFromStorage(ctx, kv.Value, value.DefaultContext(key))
	if err != nil {
		if !unsafe {
			return nil, storage.NewInternalError(fmt.Errorf("unable to transform key %q: %w", key, err))
		}
		st.obj, st.stale = nil, true
		return st, nil
	}
	st.data, st.stale = data, stale
	if err := s.decode(key, data, st.obj, st.rev); err != nil {
		if !unsafe {
			return nil, err
		}
		st.obj = nil
		return st, nil
	}
	if unsafe {
		return nil, storage.NewInvalidObjError(key, "unsafe deletion is not allowed because the object is decodable from storage")
	}
	return st, nil
}

// stateFromObject trusts a cached object; the write's compare-and-swap
// verifies it.
func (s *Store) stateFromObject(obj runtime.Object) (*objState, error) {
	rv, err := s.versioner.ObjectResourceVersion(obj)
	if err != nil {
		return nil, fmt.Errorf("couldn't get resource version: %w", err)
	}
	if err := s.versioner.PrepareObjectForStorage(obj); err != nil {
		return nil, fmt.Errorf("PrepareObjectForStorage failed: %w", err)
	}
	data, err := s.encode(obj)
	if err != nil {
		return nil, err
	}
	if err := s.versioner.UpdateObject(obj, rv); err != nil {
		return nil, err
	}
	return &objState{obj: obj, rev: int64(rv), data: data}, nil
}

func (s *Store) updateState(st *objState, tryUpdate storage.UpdateFunc) (runtime.Object, uint64, error) {
	ret, ttl, err := tryUpdate(st.obj, storage.ResponseMeta{ResourceVersion: uint64(st.rev)})
	if err != nil {
		return nil, 0, err
	}
	if err := s.versioner.PrepareObjectForStorage(ret); err != nil {
		return nil, 0, fmt.Errorf("PrepareObjectForStorage failed: %w", err)
	}
	if ttl == nil {
		return ret, 0, nil
	}
	return ret, *ttl, nil
}

// prepareWrite turns an object's encoding into the value to store (the
// transformer, with the etcd key as authenticated data), refuses it when
// etcd would, and picks the lease of a TTL (0: none).
func (s *Store) prepareWrite(ctx context.Context, key string, data []byte, ttl uint64) ([]byte, clientv3.LeaseID, error) {
	newData, err := s.transformer.TransformToStorage(ctx, data, value.DefaultContext(key))
	if err != nil {
		return nil, 0, storage.NewInternalError(err)
	}
	if err := s.checkSize(key, newData); err != nil {
		return nil, 0, err
	}
	if ttl == 0 {
		return newData, 0, nil
	}
	lease, err := s.leases.GetLease(ctx, int64(ttl))
	return newData, lease, err
}

// checkSize refuses a value etcd would refuse, before the write.
func (s *Store) checkSize(key string, data []byte) error {
	// A put carries the key, the value and some framing; leave 1 KiB for it.
	if n := len(key) + len(data); n+1024 > s.maxRequestBytes {
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
			"object %q is %d bytes in storage, over etcd's request size limit of %d bytes", key, n, s.maxRequestBytes))
	}
	return nil
}

// writeError explains the refusal of a value larger than etcd's limit (an
// etcd with a lower --max-request-bytes than MaxRequestBytes) or than the
// client's gRPC message limit.
func (s *Store) writeError(key string, data []byte, err error) error {
	if errors.Is(err, rpctypes.ErrRequestTooLarge) || status.Code(err) == codes.ResourceExhausted {
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
			"object %q is %d bytes in storage, over etcd's request size limit", key, len(data)))
	}
	return err
}
