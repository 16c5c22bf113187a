package encryption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/storage/value/identify"
)

// Rotation phases, in order, as saved in etcd.
const (
	PhaseAdd      = "add"      // the new key is added as a read key
	PhasePromote  = "promote"  // the new key becomes the write key
	PhaseRewrite  = "rewrite"  // every value is re-encrypted with it
	PhaseVerify   = "verify"   // every value is checked to be under it
	PhaseDrop     = "drop"     // the old key leaves the configuration
	phaseFinished = "finished" // not saved: the record is deleted
)

var phases = []string{PhaseAdd, PhasePromote, PhaseRewrite, PhaseVerify, PhaseDrop, phaseFinished}

// RotateOptions configure Rotate.
type RotateOptions struct {
	// Client is the etcd client. Required.
	Client *clientv3.Client
	// Prefix is --etcd-prefix ("/registry").
	Prefix string
	// ConfigPaths are the EncryptionConfiguration files to edit, the
	// servers' (all of them hold the same entry). Required.
	ConfigPaths []string
	// Resource selects the entry to rotate: the one that writes it
	// (secrets when empty).
	Resource schema.GroupResource
	// Provider of the new key: aescbc, aesgcm or secretbox; empty keeps
	// the write provider's if it is one of those, else aescbc.
	Provider string
	// NewKeyName names the new key; empty counts up from the write key's
	// name ("key1" → "key2"), or "key-<UTC time>".
	NewKeyName string
	// NewKeySecret is the new key's base64 material; empty generates 32
	// random bytes. It goes into the files only.
	NewKeySecret string
	// KeepOldKey stops before dropping the old key.
	KeepOldKey bool
	// MinServers waits at each step until at least that many servers are
	// live (0: whatever servers are live).
	MinServers int
	// WaitTimeout bounds each wait for the servers (DefaultWaitTimeout
	// when zero).
	WaitTimeout time.Duration
	// PollInterval between two listings of the servers (peers default when
	// zero).
	PollInterval time.Duration
	// Build builds the configuration the rewrite writes with (KMS v2
	// plugins, aesgcm write counting).
	Build encryptionconfig.BuildOptions
	// Concurrency, Rate and RewriteProgress tune the rewrite.
	Concurrency     int
	Rate            float64
	RewriteProgress func(RewriteProgress)
	// OnStep, if set, is told of each step as it starts and ends, and of
	// the servers a wait is waiting for.
	OnStep func(Step)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultWaitTimeout bounds a wait for the servers.
const DefaultWaitTimeout = 5 * time.Minute

// Step is the progress of a rotation.
type Step struct {
	Phase  string
	Detail string
	Done   bool
	// Waiting lists the servers a step waits for ("id: reason").
	Waiting []string
}

// RotateResult is what a rotation did.
type RotateResult struct {
	Resource  string         `json:"resource"`
	Entry     []string       `json:"entry"` // the resources of the rotated entry
	Old       peers.KeyRef   `json:"old"`
	New       peers.KeyRef   `json:"new"`
	Resumed   string         `json:"resumed,omitempty"` // the phase it resumed at
	Servers   []string       `json:"servers"`           // the servers waited for
	Steps     []StepResult   `json:"steps"`
	Rewrite   *RewriteResult `json:"rewrite,omitempty"`
	Final     *Report        `json:"final,omitempty"`
	OldKept   bool           `json:"oldKept,omitempty"`
	Completed bool           `json:"completed"`
}

// StepResult is one step done.
type StepResult struct {
	Phase    string        `json:"phase"`
	Detail   string        `json:"detail"`
	Duration time.Duration `json:"duration"`
}

// rotation is the record of a rotation in progress, in etcd.
type rotation struct {
	Resource string       `json:"resource"`
	Old      peers.KeyRef `json:"old"`
	New      peers.KeyRef `json:"new"`
	Phase    string       `json:"phase"` // the next phase to run
	Started  time.Time    `json:"started"`
	Updated  time.Time    `json:"updated"`
}

func rotationKey(l peers.Layout) string { return l.Root() + "rotation" }

// ErrRotationInProgress is returned for a rotation of another resource
// while one is recorded.
var ErrRotationInProgress = errors.New("another rotation is in progress")

// Rotate rotates the write key of one entry of the configuration files
// with no restart of any server:
//
//  1. add: the new key is added as a read key; wait until every live
//     server reads it;
//  2. promote: the new key becomes the write key; wait until every live
//     server writes with it (so nothing is written with the old key after);
//  3. rewrite: every value is re-encrypted with it (Rewrite);
//  4. verify: a scan checks every value of the entry's resources is under
//     it (rewriting once more if a value is not);
//  5. drop: unless KeepOldKey, a last scan checks no value is under the old
//     key (Rotate refuses to drop it otherwise) and the old key leaves the
//     files; wait until no server reads with it.
//
// Progress is recorded in etcd after each phase: run again after an
// interruption, Rotate resumes where it stopped.
func Rotate(ctx context.Context, o RotateOptions) (*RotateResult, error) {
	if o.Client == nil || len(o.ConfigPaths) == 0 {
		return nil, errors.New("rotate: Client and ConfigPaths are required")
	}
	if o.Resource.Resource == "" {
		o.Resource = schema.GroupResource{Resource: "secrets"}
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &rotator{o: o, layout: peers.NewLayout(o.Prefix)}
	return r.run(ctx)
}

type rotator struct {
	o      RotateOptions
	layout peers.Layout
	rec    rotation
	entry  []string // resources of the entry
	res    *RotateResult
	// pending is the new key until the add phase writes it to the files.
	pending *newKey
}

func (r *rotator) step(s Step) {
	if r.o.OnStep != nil {
		r.o.OnStep(s)
	}
}

func (r *rotator) run(ctx context.Context) (*RotateResult, error) {
	cfg, _, err := readConfig(r.o.ConfigPaths[0])
	if err != nil {
		return nil, err
	}
	idx, err := findEntry(cfg, r.o.Resource)
	if err != nil {
		return nil, err
	}
	r.entry = cfg.Resources[idx].Resources
	saved, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case saved != nil && saved.Resource != r.o.Resource.String():
		return nil, fmt.Errorf("%w: of %s (at %s); finish it first", ErrRotationInProgress, saved.Resource, saved.Phase)
	case saved != nil:
		r.rec = *saved
		if err := r.resumeNewKey(cfg, idx); err != nil {
			return nil, err
		}
	default:
		if err := r.plan(cfg, idx); err != nil {
			return nil, err
		}
		// Recorded before any file changes, so that an interruption
		// anywhere resumes this rotation.
		if err := r.save(ctx); err != nil {
			return nil, err
		}
	}
	r.res = &RotateResult{Resource: r.o.Resource.String(), Entry: r.entry, Old: r.rec.Old, New: r.rec.New}
	if saved != nil {
		r.res.Resumed = saved.Phase
	}
	start := indexOf(phases, r.rec.Phase)
	for _, ph := range phases[start:] {
		if ph == phaseFinished {
			break
		}
		if ph == PhaseDrop && r.o.KeepOldKey {
			r.res.OldKept = true
			r.step(Step{Phase: PhaseDrop, Detail: "kept " + r.rec.Old.String() + " (--keep-old-key)", Done: true})
			return r.res, r.finish(ctx)
		}
		began := time.Now()
		detail, err := r.phase(ctx, ph, idx)
		if err != nil {
			return r.res, fmt.Errorf("rotation %s → %s, %s: %w", r.rec.Old, r.rec.New, ph, err)
		}
		r.res.Steps = append(r.res.Steps, StepResult{Phase: ph, Detail: detail, Duration: time.Since(began)})
		r.step(Step{Phase: ph, Detail: detail, Done: true})
		r.rec.Phase = phases[indexOf(phases, ph)+1]
		if r.rec.Phase != phaseFinished {
			if err := r.save(ctx); err != nil {
				return r.res, err
			}
		}
	}
	return r.res, r.finish(ctx)
}

// finish deletes the record and takes the final status.
func (r *rotator) finish(ctx context.Context) error {
	if _, err := r.o.Client.Delete(ctx, rotationKey(r.layout)); err != nil {
		return fmt.Errorf("clear the rotation record: %w", err)
	}
	set, err := encryptionconfig.Load(ctx, r.o.ConfigPaths[0], r.o.Build)
	if err != nil {
		return err
	}
	defer set.Close()
	rep, err := r.scan(ctx, peers.RulesOf(set))
	if err != nil {
		return err
	}
	rep.RulesFrom = "config " + r.o.ConfigPaths[0] + " (" + set.Hash() + ")"
	r.res.Final = rep
	r.res.Completed = true
	return nil
}

// wait waits for every live server to pass check for every resource of
// the entry.
func (r *rotator) wait(ctx context.Context, phase, what string, check func(gr schema.GroupResource) peers.Check) ([]peers.Registration, error) {
	var checks []peers.Check
	for _, gr := range r.entryGRs() {
		checks = append(checks, check(gr))
	}
	wctx, cancel := context.WithTimeoutCause(ctx, r.o.WaitTimeout, fmt.Errorf("the servers did not %s within %v", what, r.o.WaitTimeout))
	defer cancel()
	last := ""
	regs, err := peers.Wait(wctx, r.o.Client, r.layout, peers.WaitOptions{
		Interval: r.o.PollInterval, MinServers: r.o.MinServers,
		Progress: func(live int, lag []peers.Lagging) {
			waiting := make([]string, len(lag))
			for i, l := range lag {
				waiting[i] = l.Server.Name() + ": " + l.Err.Error()
			}
			if s := strings.Join(waiting, "; "); s != last {
				last = s
				r.step(Step{Phase: phase, Detail: fmt.Sprintf("waiting for %d of %d live server(s) to %s", len(lag), live, what), Waiting: waiting})
			}
		},
	}, checks...)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(regs))
	for i, reg := range regs {
		names[i] = reg.Name()
	}
	r.res.Servers = names
	return regs, nil
}

func (r *rotator) phase(ctx context.Context, phase string, idx int) (string, error) {
	old, nk := r.rec.Old, r.rec.New
	switch phase {
	case PhaseAdd:
		if r.pending == nil {
			return "", errors.New("the new key's secret is not known")
		}
		pending := *r.pending
		r.step(Step{Phase: phase, Detail: fmt.Sprintf("adding %s as a read key to %d file(s)", nk, len(r.o.ConfigPaths))})
		if err := r.editAll(idx, func(cfg *encryptionconfig.EncryptionConfiguration, i int) error {
			if w := writeKeyOf(cfg.Resources[i]); !w.Same(old) {
				return fmt.Errorf("writes %s with %s, not %s as %s does", r.o.Resource, w, old, r.o.ConfigPaths[0])
			}
			addReadKey(cfg, i, pending)
			return nil
		}); err != nil {
			return "", err
		}
		regs, err := r.wait(ctx, phase, "read "+nk.String(), func(gr schema.GroupResource) peers.Check { return peers.ReadsKey(gr, nk) })
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s added as a read key; %d server(s) read it", nk, len(regs)), nil

	case PhasePromote:
		r.step(Step{Phase: phase, Detail: fmt.Sprintf("making %s the write key", nk)})
		if err := r.editAll(idx, func(cfg *encryptionconfig.EncryptionConfiguration, i int) error { return promote(cfg, i, nk) }); err != nil {
			return "", err
		}
		regs, err := r.wait(ctx, phase, "write with "+nk.String(), func(gr schema.GroupResource) peers.Check { return peers.WritesWith(gr, nk) })
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is the write key; %d server(s) write with it", nk, len(regs)), nil

	case PhaseRewrite:
		r.step(Step{Phase: phase, Detail: "re-encrypting every value with " + nk.String()})
		res, err := r.rewrite(ctx, false)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d rewritten, %d already current, %d failed", res.Rewritten, res.Current, res.Failed), nil

	case PhaseVerify:
		r.step(Step{Phase: phase, Detail: "checking every value is under " + nk.String()})
		for attempt := 0; ; attempt++ {
			left, total, err := r.notOnNew(ctx)
			if err != nil {
				return "", err
			}
			if len(left) == 0 {
				return fmt.Sprintf("all %d values are under %s", total, nk), nil
			}
			if attempt > 0 {
				return "", fmt.Errorf("values not under %s after a second rewrite: %s", nk, strings.Join(left, "; "))
			}
			if _, err := r.rewrite(ctx, true); err != nil {
				return "", err
			}
		}

	case PhaseDrop:
		rep, err := r.scanOwn(ctx)
		if err != nil {
			return "", err
		}
		if n := ownCount(rep, old); n > 0 {
			return "", fmt.Errorf("refusing to drop %s: %d stored value(s) still need it", old, n)
		}
		r.step(Step{Phase: phase, Detail: "dropping " + old.String()})
		if err := r.editAll(idx, func(cfg *encryptionconfig.EncryptionConfiguration, i int) error { return drop(cfg, i, old) }); err != nil {
			return "", err
		}
		if _, err := r.wait(ctx, phase, "stop reading "+old.String(), func(gr schema.GroupResource) peers.Check {
			return func(reg peers.Registration) error {
				if reg.CanRead(gr, old) {
					return fmt.Errorf("still reads %s values under %s", gr, old)
				}
				return nil
			}
		}); err != nil {
			return "", err
		}
		return old.String() + " dropped", nil
	}
	return "", fmt.Errorf("unknown phase %q", phase)
}

// rewrite runs Rewrite with the first file's configuration.
func (r *rotator) rewrite(ctx context.Context, restart bool) (*RewriteResult, error) {
	set, err := encryptionconfig.Load(ctx, r.o.ConfigPaths[0], r.o.Build)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	if w := writeOf(peers.RulesOf(set), r.o.Resource); !w.Same(r.rec.New) {
		return nil, fmt.Errorf("%s writes %s with %s, not %s", r.o.ConfigPaths[0], r.o.Resource, w, r.rec.New)
	}
	res, err := Rewrite(ctx, RewriteOptions{
		Client: r.o.Client, Prefix: r.o.Prefix, Set: set, Resources: r.exactGRs(),
		Concurrency: r.o.Concurrency, Rate: r.o.Rate, Restart: restart, Progress: r.o.RewriteProgress, Logger: r.o.Logger,
	})
	if err != nil {
		return res, err
	}
	r.res.Rewrite = res
	if res.Failed > 0 {
		msgs := make([]string, 0, len(res.Failures))
		for _, f := range res.Failures {
			msgs = append(msgs, f.Key+": "+f.Error)
		}
		return res, fmt.Errorf("%d value(s) could not be rewritten: %s", res.Failed, strings.Join(msgs, "; "))
	}
	return res, nil
}

// exactGRs are the entry's resources when none is a wildcard; nil (every
// configured resource) otherwise.
func (r *rotator) exactGRs() []schema.GroupResource {
	grs := r.entryGRs()
	for _, gr := range grs {
		if gr.Resource == "*" {
			return nil
		}
	}
	return grs
}

// scan takes the status of the entry's resources under rules.
func (r *rotator) scan(ctx context.Context, rules []peers.Rule) (*Report, error) {
	return Status(ctx, &Live{KV: r.o.Client, Name: strings.Join(r.o.Client.Endpoints(), ",")}, StatusOptions{Prefix: r.o.Prefix, Rules: rules, Resources: r.exactGRs(), MaxObjects: -1})
}

// scanOwn takes the status under the first file's configuration and keeps
// only the resources the rotated entry governs.
func (r *rotator) scanOwn(ctx context.Context) (*Report, error) {
	set, err := encryptionconfig.Load(ctx, r.o.ConfigPaths[0], r.o.Build)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	rules := peers.RulesOf(set)
	rep, err := r.scan(ctx, rules)
	if err != nil {
		return nil, err
	}
	own := rep.Resources[:0]
	for _, rs := range rep.Resources {
		rule, ok := peers.RuleFor(rules, schema.ParseGroupResource(rs.Resource))
		if ok && contains(r.entry, rule.Resource) {
			own = append(own, rs)
		}
	}
	rep.Resources = own
	return rep, nil
}

// notOnNew lists the values of the entry's resources not under the new
// key, and counts them all.
func (r *rotator) notOnNew(ctx context.Context) (left []string, total int64, err error) {
	rep, err := r.scanOwn(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, rs := range rep.Resources {
		total += rs.Total
		for _, k := range rs.Keys {
			if !refOf(identify.Info{Provider: k.Provider, Key: k.Name}).Same(peers.KeyRef{Provider: r.rec.New.Provider, Key: r.rec.New.Key}) {
				left = append(left, fmt.Sprintf("%s: %d under %s", rs.Resource, k.Count, k.Key))
			}
		}
	}
	return left, total, nil
}

func ownCount(rep *Report, k peers.KeyRef) int64 { return rep.Count(k) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
