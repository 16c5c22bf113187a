package encryption

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage/value"
)

// RewriteOptions configure Rewrite.
type RewriteOptions struct {
	// Client is the etcd client. Required.
	Client *clientv3.Client
	// Prefix is --etcd-prefix ("/registry").
	Prefix string
	// Set is the configuration to write with: the one the servers use.
	// Required.
	Set *encryptionconfig.Set
	// Resources limits the rewrite to these resources; empty rewrites
	// every resource Set configures.
	Resources []schema.GroupResource
	// Concurrency is how many objects are rewritten at once
	// (DefaultConcurrency when zero).
	Concurrency int
	// Rate bounds the objects read per second; zero is unbounded.
	Rate float64
	// PageSize is how many keys are read per request (DefaultPageSize
	// when zero); the checkpoint is saved after each page.
	PageSize int
	// Restart ignores a saved checkpoint and starts from the first key.
	Restart bool
	// Progress, if set, is called after each page and at the end.
	Progress func(RewriteProgress)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConcurrency is how many objects Rewrite handles at once.
const DefaultConcurrency = 8

// RewriteProgress is how far a rewrite is.
type RewriteProgress struct {
	Total     int64 // keys in the ranges to rewrite when it started (resumed included)
	Done      int64 // keys handled, including those done before a resume
	Rewritten int64
}

// RewriteResult is what a rewrite did.
type RewriteResult struct {
	// ResumedAfter is the checkpoint it resumed after ("" from the start).
	ResumedAfter string `json:"resumedAfter,omitempty"`
	// Scanned objects this run, of which Rewritten were re-encrypted,
	// Current already under their write key, Gone deleted meanwhile, and
	// Failed not readable (Failures says why).
	Scanned   int64 `json:"scanned"`
	Rewritten int64 `json:"rewritten"`
	Current   int64 `json:"current"`
	Gone      int64 `json:"gone"`
	Failed    int64 `json:"failed"`
	// Conflicts are objects changed between read and write, read again.
	Conflicts int64         `json:"conflicts"`
	Failures  []Failure     `json:"failures,omitempty"`
	Duration  time.Duration `json:"duration"`
}

// Failure is an object that could not be rewritten.
type Failure struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// maxFailures bounds the failures a result lists.
const maxFailures = 100

// checkpoint is saved in etcd (peers.Layout.Rewrite) after each page.
type checkpoint struct {
	// Target identifies what the rewrite writes with: the configuration's
	// write keys and the resources, so that a resume with another
	// configuration starts over.
	Target  string    `json:"target"`
	LastKey string    `json:"lastKey"`
	Done    int64     `json:"done"`
	Updated time.Time `json:"updated"`
}

// ErrNothingToRewrite means the configuration encrypts no resource.
var ErrNothingToRewrite = errors.New("the encryption configuration configures no resource: nothing to rewrite")

// Rewrite re-encrypts, online, every value of the configured resources
// that Set reads but would not write as it is (a stale read: another
// provider or key, or a KMS v2 key_id that is not current). Each value is
// replaced with a compare-and-swap on its modification revision, keeping
// its lease, so a concurrent write is never overwritten: on a conflict the
// value is read again (and is usually current by then). The plaintext is
// not decoded: the bytes are re-encrypted as they are. Progress is saved
// in etcd after each page, and a Rewrite interrupted for any reason
// resumes after the last page done, unless Restart.
func Rewrite(ctx context.Context, o RewriteOptions) (*RewriteResult, error) {
	start := time.Now()
	if o.Client == nil || o.Set == nil {
		return nil, errors.New("rewrite: Client and Set are required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	rules := peers.RulesOf(o.Set)
	if len(rules) == 0 {
		return nil, ErrNothingToRewrite
	}
	root := registry.EtcdPathPrefix(o.Prefix)
	ranges := scanRanges(root, rewriteResources(rules, o.Resources))
	layout := peers.NewLayout(o.Prefix)
	target := rewriteTarget(rules, ranges)

	res := &RewriteResult{}
	cp, err := loadCheckpoint(ctx, o.Client, layout)
	if err != nil {
		return nil, err
	}
	var done int64
	if cp != nil && cp.Target == target && !o.Restart {
		res.ResumedAfter, done = cp.LastKey, cp.Done
		o.Logger.Info("resuming the rewrite", "after", cp.LastKey, "done", cp.Done)
	}
	var total int64
	for _, r := range ranges {
		resp, err := o.Client.Get(ctx, r[0], clientv3.WithRange(r[1]), clientv3.WithCountOnly())
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", r[0], err)
		}
		total += resp.Count
	}

	w := &rewriter{o: o, rules: rules, res: res}
	if o.Rate > 0 {
		w.limit = rate.NewLimiter(rate.Limit(o.Rate), max(1, int(o.Rate)))
	}
	report := func() {
		if o.Progress != nil {
			o.Progress(RewriteProgress{Total: max(total, done), Done: done, Rewritten: atomic.LoadInt64(&res.Rewritten)})
		}
	}
	report()
	for _, r := range ranges {
		from := r[0]
		if res.ResumedAfter != "" {
			if res.ResumedAfter >= r[1] {
				continue // a range done before the interruption
			}
			if res.ResumedAfter >= r[0] {
				from = res.ResumedAfter + "\x00"
			}
		}
		for from < r[1] {
			resp, err := o.Client.Get(ctx, from, clientv3.WithRange(r[1]), clientv3.WithLimit(int64(o.PageSize)))
			if err != nil {
				return res, fmt.Errorf("read %s: %w", from, err)
			}
			if len(resp.Kvs) == 0 {
				break
			}
			if err := w.page(ctx, resp.Kvs); err != nil {
				return res, err
			}
			last := string(resp.Kvs[len(resp.Kvs)-1].Key)
			done += int64(len(resp.Kvs))
			if err := saveCheckpoint(ctx, o.Client, layout, checkpoint{Target: target, LastKey: last, Done: done, Updated: time.Now().UTC()}); err != nil {
				return res, err
			}
			report()
			if !resp.More {
				break
			}
			from = last + "\x00"
		}
	}
	if _, err := o.Client.Delete(ctx, layout.Rewrite()); err != nil {
		return res, fmt.Errorf("clear the rewrite checkpoint: %w", err)
	}
	res.Duration = time.Since(start)
	report()
	return res, nil
}

// rewriteResources are the resources to rewrite: those asked for, or
// those the rules configure (none for "*.group" and "*.*", which scan the
// whole prefix).
func rewriteResources(rules []peers.Rule, asked []schema.GroupResource) []schema.GroupResource {
	if len(asked) > 0 {
		return asked
	}
	var out []schema.GroupResource
	for _, r := range rules {
		gr := schema.ParseGroupResource(r.Resource)
		if gr.Resource == "*" {
			return nil // a wildcard: every key
		}
		out = append(out, gr)
	}
	return out
}

func rewriteTarget(rules []peers.Rule, ranges [][2]string) string {
	t := ""
	for _, r := range rules {
		t += r.Resource + "=" + r.Write.String() + "/" + r.Write.Fingerprint + ";"
	}
	for _, r := range ranges {
		t += r[0] + ";"
	}
	return t
}

func loadCheckpoint(ctx context.Context, kv clientv3.KV, l peers.Layout) (*checkpoint, error) {
	resp, err := kv.Get(ctx, l.Rewrite())
	if err != nil {
		return nil, fmt.Errorf("read the rewrite checkpoint: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	var cp checkpoint
	if err := json.Unmarshal(resp.Kvs[0].Value, &cp); err != nil {
		return nil, fmt.Errorf("rewrite checkpoint: %w", err)
	}
	return &cp, nil
}

func saveCheckpoint(ctx context.Context, kv clientv3.KV, l peers.Layout, cp checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, l.Rewrite(), string(data)); err != nil {
		return fmt.Errorf("save the rewrite checkpoint: %w", err)
	}
	return nil
}

type rewriter struct {
	o     RewriteOptions
	rules []peers.Rule
	limit *rate.Limiter
	mu    sync.Mutex // guards res.Failures
	res   *RewriteResult
}

// page rewrites one page of values with o.Concurrency workers.
func (w *rewriter) page(ctx context.Context, kvs []*mvccKV) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *mvccKV)
	var wg sync.WaitGroup
	for range min(w.o.Concurrency, len(kvs)) {
		wg.Go(func() {
			for kv := range next {
				w.one(ctx, kv)
			}
		})
	}
	var err error
feed:
	for _, kv := range kvs {
		if w.limit != nil {
			if err = w.limit.Wait(ctx); err != nil {
				break
			}
		}
		select {
		case next <- kv:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// one rewrites one value if it is stale.
func (w *rewriter) one(ctx context.Context, kv *mvccKV) {
	atomic.AddInt64(&w.res.Scanned, 1)
	key := string(kv.Key)
	info, err := builtin.ParseKey(w.o.Prefix, key)
	if err != nil {
		atomic.AddInt64(&w.res.Current, 1) // not an object: left alone
		return
	}
	if _, ok := peers.RuleFor(w.rules, info.Resource); !ok {
		atomic.AddInt64(&w.res.Current, 1) // not configured: identity, nothing to do
		return
	}
	tr := w.o.Set.TransformerForResource(info.Resource)
	dc := value.DefaultContext(kv.Key)
	val, modRev, lease := kv.Value, kv.ModRevision, kv.Lease
	for ctx.Err() == nil {
		plain, stale, err := tr.TransformFromStorage(ctx, val, dc)
		if err != nil {
			w.fail(key, err)
			return
		}
		if !stale {
			atomic.AddInt64(&w.res.Current, 1)
			return
		}
		out, err := tr.TransformToStorage(ctx, plain, dc)
		clear(plain)
		if err != nil {
			w.fail(key, err)
			return
		}
		var put clientv3.Op
		if lease != 0 {
			put = clientv3.OpPut(key, string(out), clientv3.WithLease(clientv3.LeaseID(lease)))
		} else {
			put = clientv3.OpPut(key, string(out))
		}
		resp, err := w.o.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
			Then(put).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			if ctx.Err() == nil {
				w.fail(key, err)
			}
			return
		}
		if resp.Succeeded {
			atomic.AddInt64(&w.res.Rewritten, 1)
			return
		}
		got := resp.Responses[0].GetResponseRange().Kvs
		if len(got) == 0 {
			atomic.AddInt64(&w.res.Gone, 1)
			return
		}
		atomic.AddInt64(&w.res.Conflicts, 1)
		val, modRev, lease = got[0].Value, got[0].ModRevision, got[0].Lease
	}
}

func (w *rewriter) fail(key string, err error) {
	atomic.AddInt64(&w.res.Failed, 1)
	w.o.Logger.Warn("could not rewrite an object", "key", key, "error", err)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.res.Failures) < maxFailures {
		w.res.Failures = append(w.res.Failures, Failure{Key: key, Error: err.Error()})
	}
}

// ServersDisagree lists the live servers that do not write a configured
// resource with the key rules write it with: a rewrite done while such a
// server runs would leave its new writes on another key. Each line is
// "server: reason".
func ServersDisagree(ctx context.Context, kv clientv3.KV, prefix string, rules []peers.Rule) ([]string, error) {
	regs, err := peers.List(ctx, kv, peers.NewLayout(prefix))
	if err != nil {
		return nil, err
	}
	var checks []peers.Check
	for _, r := range rules {
		checks = append(checks, peers.WritesWith(schema.ParseGroupResource(r.Resource), r.Write))
	}
	var out []string
	for _, l := range peers.Laggards(regs, checks...) {
		out = append(out, l.Server.Name()+": "+l.Err.Error())
	}
	return out, nil
}
