package cacher_test

import (
	"context"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
)

// killableStore lets a test cut the cacher's etcd watch (the one opened
// with ProgressNotify), and hold the next ones until released.
type killableStore struct {
	storage.Interface

	mu      sync.Mutex
	current []*killableWatch
	held    chan struct{} // when set, new watches wait for it to close
	opened  atomic.Int32
}

func (k *killableStore) wrap(s storage.Interface) storage.Interface {
	k.Interface = s
	return k
}

func (k *killableStore) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	if !opts.ProgressNotify {
		return k.Interface.Watch(ctx, key, opts)
	}
	k.mu.Lock()
	held := k.held
	k.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	w, err := k.Interface.Watch(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	k.opened.Add(1)
	kw := &killableWatch{inner: w, out: make(chan watch.Event), killed: make(chan struct{})}
	go kw.forward()
	k.mu.Lock()
	k.current = append(k.current, kw)
	k.mu.Unlock()
	return kw, nil
}

// kill ends the open watches, dropping whatever they were carrying, and
// returns how many it ended.
func (k *killableStore) kill() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.current)
	for _, w := range k.current {
		w.kill()
	}
	k.current = nil
	return n
}

// hold makes new watches wait until the returned function is called.
func (k *killableStore) hold() (release func()) {
	ch := make(chan struct{})
	k.mu.Lock()
	k.held = ch
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		k.held = nil
		k.mu.Unlock()
		close(ch)
	}
}

func (k *killableStore) watches() int { return int(k.opened.Load()) }

type killableWatch struct {
	inner    watch.Interface
	out      chan watch.Event
	killed   chan struct{}
	killOnce sync.Once
}

func (w *killableWatch) forward() {
	defer close(w.out)
	defer w.inner.Stop()
	for {
		select {
		case ev, ok := <-w.inner.ResultChan():
			if !ok {
				return
			}
			select {
			case w.out <- ev:
			case <-w.killed:
				return
			}
		case <-w.killed:
			return
		}
	}
}

func (w *killableWatch) kill()                          { w.killOnce.Do(func() { close(w.killed) }) }
func (w *killableWatch) Stop()                          { w.kill() }
func (w *killableWatch) ResultChan() <-chan watch.Event { return w.out }

// countingStore counts the lists and gets that reach the store.
type countingStore struct {
	storage.Interface
	lists atomic.Int32
	gets  atomic.Int32
}

func (c *countingStore) wrap(s storage.Interface) storage.Interface {
	c.Interface = s
	return c
}

func (c *countingStore) GetList(ctx context.Context, key string, opts storage.ListOptions, out runtime.Object) error {
	c.lists.Add(1)
	return c.Interface.GetList(ctx, key, opts, out)
}

func (c *countingStore) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	c.gets.Add(1)
	return c.Interface.Get(ctx, key, opts, out)
}

// blockingStore holds the first list (the cacher's own) until released.
type blockingStore struct {
	storage.Interface
	once    sync.Once
	release chan struct{}
}

func (b *blockingStore) wrap(s storage.Interface) storage.Interface {
	b.Interface = s
	b.release = make(chan struct{})
	return b
}

func (b *blockingStore) GetList(ctx context.Context, key string, opts storage.ListOptions, out runtime.Object) error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.Interface.GetList(ctx, key, opts, out)
}
