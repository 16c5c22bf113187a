package cacher

import (
	"sync/atomic"
	"time"
)

// Budget is a memory limit shared by the cachers of a server (the total of
// --watch-cache-max-bytes). Each cacher adds the encoded size of what it
// holds; when the sum is over the limit every cacher sends lists to etcd
// (watches are still served). The zero limit means no limit.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes (0 = unlimited).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Used is the bytes counted against the budget.
func (b *Budget) Used() int64 { return b.used.Load() }

// Limit is the budget's limit in bytes (0 = none).
func (b *Budget) Limit() int64 { return b.limit }

func (b *Budget) usedOrZero() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

func (b *Budget) limitOrZero() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

func (b *Budget) add(n int64) {
	if b != nil {
		b.used.Add(n)
	}
}

func (b *Budget) over() bool {
	return b != nil && b.limit > 0 && b.used.Load() > b.limit
}

// timeBudget bounds how long the dispatcher may block on full watchers:
// it refills 50 ms per second up to 100 ms, and unused time is returned
// (upstream's time_budget.go). Unlike upstream's, it may lend a little:
// a wait longer than what was available (the dispatcher's minimum wait)
// is a debt, repaid by later refills, of at most 100 ms. So whatever the
// watchers do, the dispatcher spends at most about 5 % of its time
// waiting for them. Only the dispatcher goroutine uses it.
type timeBudget struct {
	budget time.Duration // negative: a debt
	last   time.Time
}

const (
	budgetRefillPerSecond = 50 * time.Millisecond
	budgetMax             = 100 * time.Millisecond
	budgetMaxDebt         = 100 * time.Millisecond
)

func newTimeBudget(now time.Time) *timeBudget { return &timeBudget{last: now} }

// take returns the time available now (and holds it until settle).
func (t *timeBudget) take(now time.Time) time.Duration {
	t.budget += time.Duration(float64(now.Sub(t.last)) * budgetRefillPerSecond.Seconds())
	t.budget = min(t.budget, budgetMax)
	t.last = now
	if t.budget <= 0 {
		return 0
	}
	out := t.budget
	t.budget = 0
	return out
}

// canLend reports whether a wait of d beyond what take returned fits in
// the debt allowed.
func (t *timeBudget) canLend(d time.Duration) bool { return t.budget-d >= -budgetMaxDebt }

// settle records that spent of the taken time was used; spending more
// than taken is a debt.
func (t *timeBudget) settle(taken, spent time.Duration) {
	t.budget = min(max(t.budget+taken-spent, -budgetMaxDebt), budgetMax)
}
