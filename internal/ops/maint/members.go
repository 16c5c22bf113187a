package maint

import (
	"context"
	"fmt"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Member is one etcd member and what its status says.
type Member struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Leader   bool   `json:"leader"`
	Learner  bool   `json:"learner,omitempty"`
	Version  string `json:"version,omitempty"`
	// DBSize is the database file's size; DBSizeInUse the part holding
	// data (the rest is freed by a defragmentation).
	DBSize      int64    `json:"dbSize"`
	DBSizeInUse int64    `json:"dbSizeInUse"`
	RaftIndex   uint64   `json:"raftIndex"`
	RaftTerm    uint64   `json:"raftTerm"`
	Revision    int64    `json:"revision"`
	Errors      []string `json:"errors,omitempty"`
	// Err is why the member did not answer ("" when it did).
	Err string `json:"error,omitempty"`
	// Took is how long its status took.
	Took time.Duration `json:"took"`
}

// Healthy reports whether the member answered with no error.
func (m Member) Healthy() bool { return m.Err == "" && len(m.Errors) == 0 }

// Fragmentation is the share of the database file that is free pages.
func (m Member) Fragmentation() float64 {
	if m.DBSize <= 0 {
		return 0
	}
	return float64(m.DBSize-m.DBSizeInUse) / float64(m.DBSize)
}

// StatusTimeout bounds each member's status call.
const StatusTimeout = 5 * time.Second

// Members lists the cluster's members with their status, in member ID
// order. A member that does not answer is listed with Err.
func Members(ctx context.Context, c *clientv3.Client) ([]Member, error) {
	ml, err := c.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("member list: %w", err)
	}
	out := make([]Member, 0, len(ml.Members))
	for _, m := range ml.Members {
		mem := Member{ID: fmt.Sprintf("%x", m.ID), Name: m.Name, Learner: m.IsLearner}
		if len(m.ClientURLs) == 0 {
			mem.Err = "no client URL (not started yet?)"
			out = append(out, mem)
			continue
		}
		mem.Endpoint = m.ClientURLs[0]
		sctx, cancel := context.WithTimeout(ctx, StatusTimeout)
		start := time.Now()
		st, err := c.Status(sctx, mem.Endpoint)
		cancel()
		mem.Took = time.Since(start)
		if err != nil {
			mem.Err = err.Error()
		} else {
			mem.Leader = st.Leader == m.ID
			mem.Version, mem.DBSize, mem.DBSizeInUse = st.Version, st.DbSize, st.DbSizeInUse
			mem.RaftIndex, mem.RaftTerm, mem.Errors = st.RaftIndex, st.RaftTerm, st.Errors
			if st.Header != nil {
				mem.Revision = st.Header.Revision
			}
		}
		out = append(out, mem)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
