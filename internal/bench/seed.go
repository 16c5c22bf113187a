package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/ops/progress"
)

// seedBatch is how many pods one etcd transaction writes (etcd's
// --max-txn-ops is 128 by default).
const seedBatch = 100

// seedWriters write the transactions concurrently.
const seedWriters = 4

// protobufPrefix starts every protobuf value an API server stores.
var protobufPrefix = []byte("k8s\x00")

// SeedConfig writes many pods into etcd without an API server's write
// path: one pod is created through the server, the others are copies of
// the bytes it stored, each with a name and uid of its own, put straight
// into its etcd (and into other etcds, so that a second server reads the
// very same objects).
type SeedConfig struct {
	// Config reaches the server that creates the namespace and the
	// first pod.
	Config *rest.Config
	// Etcd is that server's etcd; Prefix its --etcd-prefix.
	Etcd   *clientv3.Client
	Prefix string
	// Copies are more etcds given the namespace and every pod.
	Copies []*clientv3.Client
	// Namespace is created; it must not exist.
	Namespace string
	Pods      int
	// Progress, when set, shows the writes' progress.
	Progress io.Writer
}

// Seed writes c.Pods pods into c.Namespace. The servers' watch caches
// see them as any other write; a server started after reads them as an
// existing cluster's. The values must be unencrypted protobuf (a server
// with --storage-media-type protobuf, no encryption of pods).
func Seed(ctx context.Context, c SeedConfig) error {
	if c.Pods < 1 {
		return fmt.Errorf("pods: %d, want at least 1", c.Pods)
	}
	if c.Etcd == nil || c.Config == nil || c.Namespace == "" {
		return errors.New("seed: a server, its etcd and a namespace are needed")
	}
	cs, err := newClientset(c.Config, "protobuf", &counters{})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.Namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s exists: seed another one, or load its pods with --namespace", c.Namespace)
		}
		return fmt.Errorf("namespace %s: %w", c.Namespace, err)
	}
	first, err := cs.CoreV1().Pods(c.Namespace).Create(ctx, newPod(c.Namespace, 0), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("the first pod: %w", err)
	}
	nsKey := c.Prefix + "/namespaces/" + c.Namespace
	podKey := c.Prefix + "/pods/" + c.Namespace + "/"
	nsValue, err := storedValue(ctx, c.Etcd, nsKey)
	if err != nil {
		return err
	}
	podValue, err := storedValue(ctx, c.Etcd, podKey+first.Name)
	if err != nil {
		return err
	}
	ser := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	obj, _, err := ser.Decode(podValue, nil, nil)
	if err != nil {
		return fmt.Errorf("the stored pod: %w", err)
	}
	tmpl, ok := obj.(*corev1.Pod)
	if !ok {
		return fmt.Errorf("the stored pod decodes to %T", obj)
	}
	for _, e := range c.Copies {
		if err := putNew(ctx, e, map[string][]byte{nsKey: nsValue, podKey + first.Name: podValue}); err != nil {
			return err
		}
	}

	bar := progress.New(orDiscard(c.Progress), "seed "+c.Namespace)
	defer bar.Finish()
	var next, done atomic.Int64
	next.Store(1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range seedWriters {
		wg.Go(func() {
			var buf bytes.Buffer
			for ctx.Err() == nil {
				from := int(next.Add(seedBatch) - seedBatch)
				if from >= c.Pods {
					return
				}
				batch := make(map[string][]byte, seedBatch)
				for i := from; i < min(from+seedBatch, c.Pods); i++ {
					p := tmpl.DeepCopy()
					p.Name = podName(i)
					p.UID = uuid.NewUUID()
					p.Annotations["regis.dev/bench-index"] = strconv.Itoa(i)
					buf.Reset()
					if err := ser.Encode(p, &buf); err != nil {
						cancel(err)
						return
					}
					batch[podKey+p.Name] = bytes.Clone(buf.Bytes())
				}
				for _, e := range append([]*clientv3.Client{c.Etcd}, c.Copies...) {
					if err := putNew(ctx, e, batch); err != nil {
						cancel(err)
						return
					}
				}
				bar.Set(done.Add(int64(len(batch)))+1, int64(c.Pods))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// storedValue is the unencrypted protobuf value of key.
func storedValue(ctx context.Context, e *clientv3.Client, key string) ([]byte, error) {
	resp, err := e.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) != 1 {
		return nil, fmt.Errorf("%s is not in the server's etcd (another --etcd-prefix?)", key)
	}
	v := resp.Kvs[0].Value
	if !bytes.HasPrefix(v, protobufPrefix) {
		return nil, fmt.Errorf("%s is not stored as plain protobuf (encrypted, or another --storage-media-type): it cannot be copied", key)
	}
	return v, nil
}

// putNew writes every key in one transaction, none of which may exist.
func putNew(ctx context.Context, e *clientv3.Client, kvs map[string][]byte) error {
	cmps := make([]clientv3.Cmp, 0, len(kvs))
	ops := make([]clientv3.Op, 0, len(kvs))
	for k, v := range kvs {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		ops = append(ops, clientv3.OpPut(k, string(v)))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := e.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return errors.New("a seeded key exists already in an etcd: seed into a new namespace")
	}
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
