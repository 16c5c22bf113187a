package encryptionconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Defaults of ReloaderConfig.
const (
	DefaultReloadInterval = 10 * time.Second
	DefaultHealthTimeout  = 10 * time.Second
	healthPollInterval    = 100 * time.Millisecond
)

// Load reads, validates and builds the configuration at path: what a
// server does once at start, refusing to start on an error.
func Load(ctx context.Context, path string, opts BuildOptions) (*Set, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	set, err := Build(ctx, f.Config, f.Hash, opts)
	if err != nil {
		return nil, fmt.Errorf("encryption provider configuration %q: %w", path, err)
	}
	return set, nil
}

// ReloaderConfig configures a Reloader. Path and Transformers are required.
type ReloaderConfig struct {
	// Path is the EncryptionConfiguration file.
	Path string
	// Transformers receives each good new configuration.
	Transformers *Transformers
	// Interval between two reads of the file; zero means DefaultReloadInterval.
	Interval time.Duration
	// Build builds new configurations.
	Build BuildOptions
	// HealthTimeout bounds the wait for a new configuration's KMS providers
	// to become healthy before it is applied (at least its close grace
	// period); zero means DefaultHealthTimeout.
	HealthTimeout time.Duration
	// Logger logs applied and refused configurations; nil means slog.Default().
	Logger *slog.Logger
	// Metrics counts reloads; nil records nothing.
	Metrics *Metrics
	// Gate, if set, decides whether the new configuration's write keys may
	// be used yet (see WriteGate): servers sharing an etcd write with a key
	// only once all of them read it.
	Gate WriteGate
}

// WriteGate decides, for a new configuration cfg, whether the server may
// write with its write keys yet; cur is the Set in use (nil: none). It
// returns nil to apply cfg as it is; or a configuration to apply instead
// (cfg's keys, with the current write key kept first where another server
// cannot read the new one yet) and the reason, for the log; or an error to
// refuse cfg for now. The Reloader asks again at each check until cfg
// applies as it is.
type WriteGate func(ctx context.Context, cur *Set, cfg *EncryptionConfiguration) (instead *EncryptionConfiguration, reason string, err error)

// Reloader re-reads the configuration file and applies each valid change
// with no restart. A file that does not parse, validate, build or become
// healthy is refused: the old configuration stays, and the refusal is
// logged and counted once per distinct content. Content refused only because
// its KMS plugins were not healthy is tried again at each check, so a plugin
// started after the file changed is picked up. The owner runs Run and stops
// it by cancelling its context.
type Reloader struct {
	cfg ReloaderConfig // set in NewReloader, never written again

	mu       sync.Mutex // guards the fields below; held for a whole check
	hash     string     // content hash of the applied configuration
	refused  string     // content hash (or read error) last refused
	retry    bool       // refused only because its KMS plugins were not healthy yet, or by the gate
	deferred string     // why the applied configuration is not the file's as it is ("" when it is)
	retiring []retiringSet
}

// errUnhealthy marks a refusal that may pass later with the same content: a
// KMS plugin that is not up yet.
var errUnhealthy = errors.New("KMS providers not healthy")

// retiringSet is a replaced Set that closes once operations that may still
// hold it are done.
type retiringSet struct {
	set *Set
	at  time.Time
}

// NewReloader returns a Reloader of cfg.Path that starts from the Set
// cfg.Transformers holds.
func NewReloader(cfg ReloaderConfig) (*Reloader, error) {
	switch {
	case cfg.Path == "":
		return nil, errors.New("encryption config reloader: Path is required")
	case cfg.Transformers == nil:
		return nil, errors.New("encryption config reloader: Transformers is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultReloadInterval
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = DefaultHealthTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Reloader{cfg: cfg}
	if cur := cfg.Transformers.Current(); cur != nil {
		r.hash = cur.Hash()
		cfg.Metrics.Applied(cur)
		if cfg.Gate != nil {
			// The configuration loaded at start has not been through the
			// gate: Run's first check, at once, puts it through.
			r.deferred = notGated
		}
	}
	return r, nil
}

// notGated is the deferral reason of a configuration not checked by the
// gate yet.
const notGated = "not checked against the other servers yet"

// Run checks the file every Interval (and at once with a Gate) until ctx
// is done, then closes the replaced configurations it still holds. It
// returns nil.
func (r *Reloader) Run(ctx context.Context) error {
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	defer r.closeRetiring(time.Time{}) // all of them
	if r.cfg.Gate != nil {
		_, _ = r.Check(ctx) // the starting configuration, through the gate
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			_, _ = r.Check(ctx) // logged and counted inside
			r.closeRetiring(time.Now())
		}
	}
}

// Check reads the file once and applies it if its content changed. It
// reports whether a new configuration was applied; the error is the reason
// a changed file was refused (nil if it was unchanged or already refused).
func (r *Reloader) Check(ctx context.Context) (applied bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.cfg.Logger.With("path", r.cfg.Path)

	data, err := os.ReadFile(r.cfg.Path)
	if err != nil {
		r.retry = false
		return false, r.refuseLocked(log, "read:"+err.Error(), "", fmt.Errorf("read encryption provider configuration: %w", err))
	}
	hash := Hash(data)
	if (hash == r.hash && r.deferred == "") || (hash == r.refused && !r.retry) {
		return false, nil
	}
	set, reason, err := r.loadLocked(ctx, data, hash)
	clear(data)
	if err != nil {
		if hash == r.refused { // a retry that failed again: already logged and counted
			return false, err
		}
		r.retry = errors.Is(err, errUnhealthy) || errors.Is(err, errGate)
		return false, r.refuseLocked(log, hash, hash, err)
	}
	if set == nil { // still deferred, for the same reason
		return false, nil
	}
	old := r.cfg.Transformers.Swap(set)
	r.hash, r.refused, r.retry, r.deferred = hash, "", false, reason
	if old != nil {
		r.retiring = append(r.retiring, retiringSet{set: old, at: time.Now().Add(old.CloseGracePeriod())})
	}
	r.cfg.Metrics.Applied(set)
	r.cfg.Metrics.reloaded(true, time.Now())
	if reason != "" {
		log.Info("applied a new encryption configuration, keeping write keys other servers cannot read yet",
			"hash", hash, "keys", keySummary(set.Keys()), "reason", reason)
	} else {
		log.Info("applied a new encryption configuration", "hash", hash, "keys", keySummary(set.Keys()))
	}
	return true, nil
}

// errGate marks a refusal by the write gate, which may pass later.
var errGate = errors.New("write keys not readable by every server yet")

// loadLocked parses data and builds what to apply: the file's
// configuration, or the one the gate gives instead (reason says why). A
// nil Set and error mean nothing changed since the last check.
func (r *Reloader) loadLocked(ctx context.Context, data []byte, hash string) (*Set, string, error) {
	cfg, err := Parse(data)
	if err != nil {
		return nil, "", err
	}
	reason := ""
	if r.cfg.Gate != nil {
		instead, why, err := r.cfg.Gate(ctx, r.cfg.Transformers.Current(), cfg)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", errGate, err)
		}
		if instead != nil {
			cfg, reason = instead, why
		}
	}
	if hash == r.hash && reason == r.deferred {
		return nil, "", nil
	}
	set, err := Build(ctx, cfg, hash, r.cfg.Build)
	if err != nil {
		return nil, "", err
	}
	if err := waitHealthy(ctx, set, max(r.cfg.HealthTimeout, set.CloseGracePeriod())); err != nil {
		set.Close()
		return nil, "", err
	}
	return set, reason, nil
}

// Deferred is why the configuration in use is not the file's as it is
// (write keys kept by the gate), "" when it is.
func (r *Reloader) Deferred() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deferred
}

// refuseLocked logs and counts a refused change once per distinct id.
func (r *Reloader) refuseLocked(log *slog.Logger, id, hash string, err error) error {
	if id == r.refused {
		return err
	}
	r.refused = id
	r.cfg.Metrics.reloaded(false, time.Now())
	log.Error("refused a new encryption configuration; keeping the one in use",
		"hash", hash, "in_use_hash", r.hash, "error", err)
	return err
}

// closeRetiring closes the replaced Sets due by now (all when now is zero).
func (r *Reloader) closeRetiring(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.retiring[:0]
	for _, rs := range r.retiring {
		if now.IsZero() || !now.Before(rs.at) {
			rs.set.Close()
			continue
		}
		kept = append(kept, rs)
	}
	r.retiring = kept
}

// waitHealthy polls set's KMS providers until they are healthy or timeout.
func waitHealthy(ctx context.Context, set *Set, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(healthPollInterval)
	defer t.Stop()
	for {
		err := set.Healthy(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %v: %w", errUnhealthy, timeout, err)
		case <-t.C:
		}
	}
}

// keySummary renders key infos for a log line: "secrets:aescbc/key1*" with
// * on write keys.
func keySummary(keys []KeyInfo) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		s := k.Resource + ":" + k.Provider
		if k.Key != "" {
			s += "/" + k.Key
		}
		if k.Write {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}
