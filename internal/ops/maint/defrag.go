package maint

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefragOptions configure Defrag.
type DefragOptions struct {
	// Threshold skips members whose fragmentation (the free share of the
	// database) is below it; 0 defragments every member.
	Threshold float64
	// Timeout bounds each member's defragmentation (DefaultDefragTimeout
	// when 0): a member is blocked while it runs.
	Timeout time.Duration
	// OnStart, if set, is called before each member's defragmentation.
	OnStart func(Member)
	// Force defragments even when a member is unhealthy.
	Force bool
}

// DefaultDefragTimeout bounds one member's defragmentation.
const DefaultDefragTimeout = 10 * time.Minute

// DefragResult is one member's defragmentation.
type DefragResult struct {
	Member  Member        `json:"member"`
	Before  int64         `json:"before"`
	After   int64         `json:"after"`
	Took    time.Duration `json:"took"`
	Skipped string        `json:"skipped,omitempty"` // why it was not defragmented
}

// ErrUnhealthy is Defrag's refusal to run while a member is unhealthy:
// defragmenting blocks a member, and with another one down the cluster
// could lose its quorum.
var ErrUnhealthy = errors.New("a member is unhealthy")

// Defrag defragments every member, one at a time, followers first and the
// leader last (a leader busy defragmenting would stall the cluster), each
// checked healthy again before the next. It refuses to start while a
// member is unhealthy (ErrUnhealthy) unless Force.
func Defrag(ctx context.Context, c *clientv3.Client, o DefragOptions) ([]DefragResult, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultDefragTimeout
	}
	members, err := Members(ctx, c)
	if err != nil {
		return nil, err
	}
	if !o.Force {
		if bad := unhealthy(members); len(bad) > 0 {
			return nil, fmt.Errorf("%w: %s; refusing to defragment (it blocks each member in turn)", ErrUnhealthy, strings.Join(bad, "; "))
		}
	}
	order := DefragOrder(members)
	var out []DefragResult
	for _, m := range order {
		r := DefragResult{Member: m, Before: m.DBSize}
		if m.Fragmentation() < o.Threshold || (o.Threshold > 0 && m.DBSize == m.DBSizeInUse) {
			r.Skipped = fmt.Sprintf("fragmentation %.0f%% below the threshold %.0f%%", 100*m.Fragmentation(), 100*o.Threshold)
			r.After = m.DBSize
			out = append(out, r)
			continue
		}
		if o.OnStart != nil {
			o.OnStart(m)
		}
		dctx, cancel := context.WithTimeout(ctx, o.Timeout)
		start := time.Now()
		_, err := c.Defragment(dctx, m.Endpoint)
		cancel()
		r.Took = time.Since(start)
		if err != nil {
			return out, fmt.Errorf("defragment %s: %w", m.Name, err)
		}
		sctx, cancel := context.WithTimeout(ctx, StatusTimeout)
		st, err := c.Status(sctx, m.Endpoint)
		cancel()
		if err != nil {
			return append(out, r), fmt.Errorf("member %s did not answer after its defragmentation: %w; stopping", m.Name, err)
		}
		r.After = st.DbSize
		out = append(out, r)
	}
	return out, nil
}

// DefragOrder is the order Defrag takes members in: followers (and
// learners) by ID, then the leader.
func DefragOrder(members []Member) []Member {
	out := append([]Member(nil), members...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Leader != out[j].Leader {
			return !out[i].Leader
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// unhealthy lists the members that did not answer or report errors other
// than a NOSPACE alarm (which a defragmentation helps to clear).
func unhealthy(members []Member) []string {
	var bad []string
	leaders := 0
	for _, m := range members {
		if m.Leader {
			leaders++
		}
		if m.Err != "" {
			bad = append(bad, fmt.Sprintf("%s (%s): %s", m.Name, m.Endpoint, m.Err))
			continue
		}
		for _, e := range m.Errors {
			if !strings.Contains(e, "NOSPACE") {
				bad = append(bad, fmt.Sprintf("%s: %s", m.Name, e))
			}
		}
	}
	if leaders == 0 && len(members) > 0 {
		bad = append(bad, "no member is the leader")
	}
	return bad
}
