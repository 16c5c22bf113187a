package cacher

import "time"

// SetFreshTimeout shortens how long reads wait for the cache to reach a
// revision (3 s otherwise), so that tests of what follows the wait are fast.
func SetFreshTimeout(cfg *Config, d time.Duration) { cfg.freshTimeout = d }

// GiveUpProgress makes c act as after its progress requests went
// unanswered (a quiet cluster just restarted).
func GiveUpProgress(c *Cacher) { c.progressGaveUp.Store(true) }

// SetProgressProbing paces the reflector's progress requests until etcd
// answers one: probes of them every every, then one every retry.
func SetProgressProbing(cfg *Config, every time.Duration, probes int, retry time.Duration) {
	cfg.probing = probing{every: every, probes: probes, retry: retry}
}

// ProgressState reports whether etcd has answered a progress request, and
// whether the reflector has given up asking often.
func ProgressState(c *Cacher) (seen, gaveUp bool) {
	return c.progressSeen.Load(), c.progressGaveUp.Load()
}
