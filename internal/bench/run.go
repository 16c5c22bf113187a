package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/ops/progress"
)

// Run loads every target of cfg one after the other, and the raw etcd
// baseline after the first; emit gets each result as soon as it is
// measured (a JSON line, a progress note). Every target's namespace and
// the baseline's keys are deleted before Run returns, whatever happens.
func Run(ctx context.Context, cfg Config, emit func(Result)) ([]Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var all []Result
	out := func(r Result) {
		all = append(all, r)
		if emit != nil {
			emit(r)
		}
	}
	// Rounds alternate the targets, and their order (even rounds run them
	// backwards), so that a change of the machine's load weighs on all of
	// them alike.
	for round := 1; round <= max(1, cfg.Rounds); round++ {
		order := make([]int, len(cfg.Targets))
		for i := range order {
			order[i] = i
			if round%2 == 0 {
				order[i] = len(order) - 1 - i
			}
		}
		for _, i := range order {
			t := cfg.Targets[i]
			r := &runner{cfg: &cfg, t: t, emit: func(res Result) { res.Round = round; out(res) }}
			// The load generator's profile (--cpuprofile) tells the
			// targets apart by this label (pprof -tagfocus target=NAME).
			var valueBytes int
			var err error
			pprof.Do(ctx, pprof.Labels("target", t.Name), func(ctx context.Context) {
				valueBytes, err = r.run(ctx)
			})
			if err != nil {
				return all, fmt.Errorf("%s: %w", t.Name, err)
			}
			if i == 0 && cfg.Etcd != nil && cfg.runs(PhaseEtcd) {
				if err := runEtcd(ctx, &cfg, t, valueBytes, r.emit); err != nil {
					return all, fmt.Errorf("raw etcd baseline: %w", err)
				}
			}
		}
	}
	return all, nil
}

// runner is the load on one target.
type runner struct {
	cfg  *Config
	t    Target
	emit func(Result)

	cs    *kubernetes.Clientset
	ctr   *counters
	ns    string
	runID string
	pods  []*podSlot
}

// podSlot is the last version of one pod, updated by one writer at a time.
type podSlot struct {
	mu  sync.Mutex
	pod *corev1.Pod
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// run is every phase on the target; it returns the stored size of a pod
// in the etcd of cfg.Etcd (0 when unknown).
func (r *runner) run(ctx context.Context) (valueBytes int, err error) {
	r.ctr = &counters{}
	defer r.ctr.conns.closeAll()
	if r.cs, err = newClientset(r.t.Config, r.cfg.ContentType, r.ctr); err != nil {
		return 0, err
	}
	r.runID = r.cfg.NamespacePrefix + "-" + randomSuffix()
	r.ns = r.runID
	if r.cfg.Namespace != "" {
		r.ns = r.cfg.Namespace
	}
	idle := sampleProc(r.t.Pid)
	etcdIdle := sampleProc(r.t.EtcdPid)
	r.emit(Result{Target: r.t.Name, Phase: "idle", ServerRSSBytes: idle.rss, EtcdRSSBytes: etcdIdle.rss})
	if r.cfg.Namespace != "" {
		if err := r.phase(ctx, PhaseExisting, r.existing); err != nil {
			return 0, err
		}
	} else {
		if _, err := r.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.ns}}, metav1.CreateOptions{}); err != nil {
			return 0, fmt.Errorf("namespace %s: %w", r.ns, err)
		}
		defer r.cleanup()
		if err := r.phase(ctx, PhaseCreate, r.create); err != nil {
			return 0, err
		}
	}
	valueBytes = r.storedSize(ctx)
	steps := []struct {
		phase string
		fn    func(context.Context) error
	}{
		{PhaseGet, func(ctx context.Context) error { return r.phase(ctx, PhaseGet, r.get) }},
		{PhaseList, r.lists},
		{PhasePaged, func(ctx context.Context) error { return r.phase(ctx, PhasePaged, r.paged) }},
		{PhaseInformer, func(ctx context.Context) error { return r.phase(ctx, PhaseInformer, r.informer) }},
		{PhaseWatch, func(ctx context.Context) error { return r.phase(ctx, PhaseWatch, r.watch) }},
	}
	for _, s := range steps {
		if !r.cfg.runs(s.phase) {
			continue
		}
		if err := s.fn(ctx); err != nil {
			return valueBytes, err
		}
	}
	return valueBytes, nil
}

// phase runs fn and adds what the processes spent meanwhile to its result.
func (r *runner) phase(ctx context.Context, name string, fn func(context.Context) (Result, error)) error {
	res, err := measure(r.t, func() (Result, error) { return fn(ctx) })
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	res.Target, res.ContentType = r.t.Name, r.cfg.ContentType
	if res.Phase == "" {
		res.Phase = name
	}
	r.emit(res)
	return nil
}

// measure samples the target's processes and this one around fn.
func measure(t Target, fn func() (Result, error)) (Result, error) {
	s0, e0, c0 := sampleProc(t.Pid), sampleProc(t.EtcdPid), sampleProc(os.Getpid())
	start := time.Now()
	res, err := fn()
	if err != nil {
		return res, err
	}
	if res.Seconds == 0 {
		res.Seconds = round3(time.Since(start).Seconds())
	}
	if res.PerSec == 0 && res.Seconds > 0 {
		res.PerSec = round3(float64(res.Ops) / res.Seconds)
	}
	if d := deltaOf(s0, sampleProc(t.Pid)); d.ok {
		res.ServerCPUSec, res.ServerRSSBytes = round3(d.cpuSec), d.rss
		if res.Ops > 0 {
			res.ServerCPUmsPerOp = round3(d.cpuSec * 1000 / float64(res.Ops))
		}
	}
	if d := deltaOf(e0, sampleProc(t.EtcdPid)); d.ok {
		res.EtcdCPUSec, res.EtcdRSSBytes = round3(d.cpuSec), d.rss
	}
	if d := deltaOf(c0, sampleProc(os.Getpid())); d.ok {
		res.ClientCPUSec = round3(d.cpuSec)
	}
	return res, nil
}

// storedSize is the size in etcd of the first pod, as the server stored
// it, read from cfg.Etcd (the first target's etcd).
func (r *runner) storedSize(ctx context.Context) int {
	if r.cfg.Etcd == nil || len(r.pods) == 0 || r.pods[0].pod == nil {
		return 0
	}
	key := r.cfg.EtcdPrefix + "/pods/" + r.ns + "/" + r.pods[0].pod.Name
	resp, err := r.cfg.Etcd.Get(ctx, key)
	if err != nil || len(resp.Kvs) == 0 {
		return 0
	}
	return len(resp.Kvs[0].Value)
}

// cleanup deletes the run's pods and namespace. When no namespace
// controller acts on the namespace (a kube-apiserver alone: no condition
// after a few seconds) or after a minute, its finalizer is removed, as
// the controller would once the pods (the only objects of the run) are
// gone.
func (r *runner) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	zero := int64(0)
	_ = r.cs.CoreV1().Pods(r.ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero},
		metav1.ListOptions{LabelSelector: benchLabel + "=" + r.runID})
	if err := r.cs.CoreV1().Namespaces().Delete(ctx, r.ns, metav1.DeleteOptions{}); err != nil {
		r.warn("namespace %s not deleted: %v", r.ns, err)
		return
	}
	defer func() {
		if ctx.Err() != nil {
			r.warn("namespace %s still there after %v", r.ns, 2*time.Minute)
		}
	}()
	for ctx.Err() == nil {
		ns, err := r.cs.CoreV1().Namespaces().Get(ctx, r.ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if err == nil && len(ns.Spec.Finalizers) > 0 && ns.DeletionTimestamp != nil {
			since := time.Since(ns.DeletionTimestamp.Time)
			if len(ns.Status.Conditions) == 0 && since > 3*time.Second || since > time.Minute {
				ns.Spec.Finalizers = nil
				_, _ = r.cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// warn tells of a problem that does not fail the run (on cfg.Progress).
func (r *runner) warn(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "%s: warning: %s\n", r.t.Name, fmt.Sprintf(format, args...))
	}
}

// bar shows progress on cfg.Progress, or nowhere.
func (r *runner) bar(label string) *progress.Bar {
	w := r.cfg.Progress
	if w == nil {
		w = io.Discard
	}
	return progress.New(w, r.t.Name+" "+label)
}
