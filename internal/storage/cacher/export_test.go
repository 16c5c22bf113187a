package cacher

import "time"

// SetFreshTimeout shortens how long reads wait for the cache to reach a
// revision (3 s otherwise), so that tests of what follows the wait are fast.
func SetFreshTimeout(cfg *Config, d time.Duration) { cfg.freshTimeout = d }

// GiveUpProgress makes c act as after its progress requests went
// unanswered (a quiet cluster just restarted).
func GiveUpProgress(c *Cacher) { c.progressGaveUp.Store(true) }
