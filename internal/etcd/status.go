package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// MemberStatus is one member of a cluster as `regis etcd status` shows it.
type MemberStatus struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
	IsLeader   bool     `json:"isLeader"`
	Healthy    bool     `json:"healthy"`
	Version    string   `json:"version,omitempty"`
	DBSize     int64    `json:"dbSize,omitempty"`
	RaftTerm   uint64   `json:"raftTerm,omitempty"`
	RaftIndex  uint64   `json:"raftIndex,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// memberProbeTimeout bounds the probes of one member.
const memberProbeTimeout = 3 * time.Second

// ClusterStatus lists the members of c's cluster and probes each on its
// first client URL with tlsCfg: its status (leader, version, size, raft
// position) and a linearizable read (health).
func ClusterStatus(ctx context.Context, c *clientv3.Client, tlsCfg *tls.Config) ([]MemberStatus, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	list, err := c.MemberList(lctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("etcd member list: %w", err)
	}
	out := make([]MemberStatus, 0, len(list.Members))
	for _, m := range list.Members {
		s := MemberStatus{ID: strconv.FormatUint(m.ID, 16), Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
		if len(m.ClientURLs) == 0 {
			s.Error = "not started"
			out = append(out, s)
			continue
		}
		probeMember(ctx, &s, m.ID, tlsCfg)
		out = append(out, s)
	}
	return out, nil
}

func probeMember(ctx context.Context, s *MemberStatus, id uint64, tlsCfg *tls.Config) {
	mc, err := NewClient(s.ClientURLs[:1], WithTLS(tlsCfg), WithDialTimeout(memberProbeTimeout))
	if err != nil {
		s.Error = err.Error()
		return
	}
	defer mc.Close()
	sctx, cancel := context.WithTimeout(ctx, memberProbeTimeout)
	defer cancel()
	st, err := mc.Status(sctx, s.ClientURLs[0])
	if err != nil {
		s.Error = err.Error()
		return
	}
	s.IsLeader = st.Leader == id
	s.Version, s.DBSize, s.RaftTerm, s.RaftIndex = st.Version, st.DbSize, st.RaftTerm, st.RaftIndex
	if len(st.Errors) > 0 {
		s.Error = strings.Join(st.Errors, "; ")
	}
	if s.IsLearner { // a learner serves no linearizable reads
		return
	}
	if _, err := mc.Get(sctx, "health"); err != nil {
		s.Error = err.Error()
		return
	}
	s.Healthy = s.Error == ""
}

// FindMember returns the ID of the member named or with the hex ID nameOrID.
func FindMember(ctx context.Context, c *clientv3.Client, nameOrID string) (uint64, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	list, err := c.MemberList(lctx)
	if err != nil {
		return 0, fmt.Errorf("etcd member list: %w", err)
	}
	for _, m := range list.Members {
		if m.Name == nameOrID || strconv.FormatUint(m.ID, 16) == strings.ToLower(nameOrID) {
			return m.ID, nil
		}
	}
	return 0, fmt.Errorf("no etcd member named %q (regis etcd status lists them)", nameOrID)
}

// RemoveMember removes member id, trying again while etcd refuses because
// a member became active only a moment ago (etcd's strict reconfiguration
// check counts a member active after 5 s), until ctx ends.
func RemoveMember(ctx context.Context, c *clientv3.Client, id uint64) error {
	for {
		_, err := c.MemberRemove(ctx, id)
		if err == nil || !errors.Is(err, rpctypes.ErrUnhealthy) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}
