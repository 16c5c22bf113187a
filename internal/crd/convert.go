package crd

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// convertedMemo is how many converted objects a served version keeps.
const convertedMemo = 4096

// converted remembers the conversions of the objects a watch cache
// shares (its runtime.CacheableObject, the same for every watcher of an
// event): an event is converted once for all the watchers of a version,
// as upstream's watch cache of each version holds converted objects.
// Objects read from etcd are converted each time (a get calls the webhook
// as upstream's does). Entries are dropped oldest first; hits are deep
// copies, which callers may change.
type converted struct {
	mu       sync.Mutex
	max      int
	m        map[runtime.Object]*unstructured.Unstructured
	order    []runtime.Object
	inFlight map[runtime.Object]*conversionCall
}

// conversionCall is a conversion under way, which the watchers of the same
// event wait for rather than calling the webhook again.
type conversionCall struct {
	done chan struct{}
	out  *unstructured.Unstructured
	err  error
}

func newConverted(max int) *converted {
	return &converted{max: max, m: make(map[runtime.Object]*unstructured.Unstructured, max),
		inFlight: map[runtime.Object]*conversionCall{}}
}

// do returns the conversion of stored, calling convert once for all the
// callers of the same watch cache object (a nil stored is not kept).
func (c *converted) do(stored runtime.Object, convert func() (*unstructured.Unstructured, error)) (*unstructured.Unstructured, error) {
	if stored == nil {
		return convert()
	}
	c.mu.Lock()
	if out := c.m[stored]; out != nil {
		c.mu.Unlock()
		return out.DeepCopy(), nil
	}
	if call := c.inFlight[stored]; call != nil {
		c.mu.Unlock()
		<-call.done
		if call.err != nil {
			return nil, call.err
		}
		return call.out.DeepCopy(), nil
	}
	call := &conversionCall{done: make(chan struct{})}
	c.inFlight[stored] = call
	c.mu.Unlock()
	call.out, call.err = convert()
	if call.err == nil {
		c.put(stored, call.out)
	}
	c.mu.Lock()
	delete(c.inFlight, stored)
	c.mu.Unlock()
	close(call.done)
	if call.err != nil {
		return nil, call.err
	}
	return call.out.DeepCopy(), nil
}

func (c *converted) get(stored runtime.Object) *unstructured.Unstructured {
	if stored == nil {
		return nil
	}
	c.mu.Lock()
	out := c.m[stored]
	c.mu.Unlock()
	if out == nil {
		return nil
	}
	return out.DeepCopy()
}

// put keeps out, which its caller no longer changes.
func (c *converted) put(stored runtime.Object, out *unstructured.Unstructured) {
	if stored == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[stored]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[stored] = out
	c.order = append(c.order, stored)
}

// webhookConversion converts between a served version and the storage
// version through a conversion webhook: writes are converted to the
// storage version, reads (gets, lists in one review, watch events) to the
// served version, then pruned and defaulted by the served version's
// schema, as upstream's storage decoder does after converting.
func webhookConversion(conv *webhookConverter, convErr error, storage schema.GroupVersion, served *registry.Resource) *registry.Conversion {
	servedGV := served.GroupVersion()
	kind := served.Kind
	fail := func(err error) error {
		// Upstream's codec error reaches the client as a 500 of reason
		// Unknown with the converter's message.
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
			Code: http.StatusInternalServerError, Message: err.Error()}}
	}
	if convErr != nil {
		// Upstream fails every request of a CRD whose webhook client
		// cannot be made (its serving info is not made).
		refuse := func(runtime.Object) (runtime.Object, error) {
			return nil, fail(fmt.Errorf("conversion webhook for %s/%s: %v", storage.Group, kind, convErr))
		}
		return &registry.Conversion{ToStorage: refuse, FromStorage: refuse,
			NewStored:     func() runtime.Object { return &unstructured.Unstructured{} },
			NewStoredList: func() runtime.Object { return &unstructured.UnstructuredList{} }}
	}
	ctx := context.Background() // the client's timeout bounds each call
	one := func(obj runtime.Object, to schema.GroupVersion) (*unstructured.Unstructured, error) {
		u, ok := shared(obj).(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("custom resource of type %T", obj)
		}
		from := u.GroupVersionKind()
		if from.Version == "" && to == storage {
			// A served object without its apiVersion: the served one.
			u = u.DeepCopy()
			u.SetAPIVersion(servedGV.String())
			from = u.GroupVersionKind()
		}
		if from.Kind == "" {
			from.Kind = kind
		}
		out, err := conv.convert(ctx, from, []*unstructured.Unstructured{u}, to, false)
		if err != nil {
			return nil, fail(err)
		}
		if out[0] == u {
			out[0] = u.DeepCopy() // the caller's new object
		}
		return out[0], nil
	}
	memo := newConverted(convertedMemo)
	return &registry.Conversion{
		ToStorage: func(obj runtime.Object) (runtime.Object, error) {
			return one(obj, storage)
		},
		FromStorage: func(obj runtime.Object) (runtime.Object, error) {
			var key runtime.Object
			if _, ok := obj.(runtime.CacheableObject); ok {
				key = obj
			}
			out, err := memo.do(key, func() (*unstructured.Unstructured, error) {
				out, err := one(obj, servedGV)
				if err == nil && served.Default != nil {
					served.Default(out)
				}
				return out, err
			})
			if err != nil {
				return nil, err
			}
			return out, nil
		},
		FromStorageList: func(items []runtime.Object) ([]runtime.Object, error) {
			res := make([]runtime.Object, len(items))
			var in []*unstructured.Unstructured
			var keys []runtime.Object
			var at []int
			for i, it := range items {
				u, ok := shared(it).(*unstructured.Unstructured)
				if !ok {
					return nil, fmt.Errorf("custom resource of type %T", it)
				}
				if hit := memo.get(it); hit != nil {
					res[i] = hit
					continue
				}
				in = append(in, u)
				at = append(at, i)
				if _, ok := it.(runtime.CacheableObject); ok {
					keys = append(keys, it)
				} else {
					keys = append(keys, nil)
				}
			}
			if len(in) == 0 {
				return res, nil
			}
			out, err := conv.convert(ctx, storage.WithKind(kind), in, servedGV, true)
			if err != nil {
				return nil, fail(err)
			}
			for j, o := range out {
				if o == in[j] {
					o = o.DeepCopy()
				}
				if served.Default != nil {
					served.Default(o)
				}
				if keys[j] != nil {
					memo.put(keys[j], o.DeepCopy())
				}
				res[at[j]] = o
			}
			return res, nil
		},
		NewStored:     func() runtime.Object { return &unstructured.Unstructured{} },
		NewStoredList: func() runtime.Object { return &unstructured.UnstructuredList{} },
		Cacheable:     true,
	}
}

// shared returns the object a watch cache's wrapper holds without
// copying it (the conversion only reads it), or obj itself.
func shared(obj runtime.Object) runtime.Object {
	if o, ok := obj.(interface{ Object() runtime.Object }); ok {
		return o.Object()
	}
	return cacheable.Unwrap(obj)
}
