package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
)

// Member is one `regis etcd` process of a Cluster.
type Member struct {
	*Proc
	// ClientURL and PeerURL are the member's https URLs on 127.0.0.1.
	ClientURL, PeerURL string
	// DataDir is the member's --data-dir.
	DataDir string
}

// Cluster is an etcd cluster of `regis etcd` processes on 127.0.0.1, over
// TLS with client (and peer) certificates made by the test.
type Cluster struct {
	// PKI holds the CA, the members' serving and peer certificates and
	// the client certificate they accept.
	PKI     etcd.PKI
	Members []*Member
}

// StartCluster starts an n-member cluster and waits (bounded) until every
// member is healthy. The processes are killed when t ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := NewCluster(t, n)
	c.Start(t)
	return c
}

// NewCluster returns an n-member cluster, its certificates made and its
// ports chosen, not started.
func NewCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	return newCluster(t, n, "")
}

// Another starts an n-member cluster of its own secured by c's
// certificates (for a client of both, as --etcd-servers-overrides).
func (c *Cluster) Another(t testing.TB, n int) *Cluster {
	t.Helper()
	o := newCluster(t, n, c.PKI.Dir)
	o.Start(t)
	return o
}

func newCluster(t testing.TB, n int, pkiDir string) *Cluster {
	t.Helper()
	dir := t.TempDir()
	if pkiDir == "" {
		pkiDir = filepath.Join(dir, "pki")
	}
	p, err := etcd.EnsurePKI(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{PKI: p}
	var initial []string
	for i := range n {
		name := fmt.Sprintf("m%d", i+1)
		m := &Member{
			ClientURL: "https://127.0.0.1:" + itoa(FreePort(t)),
			PeerURL:   "https://127.0.0.1:" + itoa(FreePort(t)),
			DataDir:   filepath.Join(dir, name),
		}
		initial = append(initial, name+"="+m.PeerURL)
		c.Members = append(c.Members, m)
	}
	for i, m := range c.Members {
		name := fmt.Sprintf("m%d", i+1)
		m.Proc = NewProc(t, name, dir, "etcd", "--name", name, "--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "regis-test",
			"--cert-file", p.Dir+"/server.crt", "--key-file", p.Dir+"/server.key",
			"--trusted-ca-file", p.CAFile(), "--client-cert-auth",
			"--peer-cert-file", p.Dir+"/peer.crt", "--peer-key-file", p.Dir+"/peer.key",
			"--peer-trusted-ca-file", p.CAFile(), "--peer-client-cert-auth",
			"--unsafe-no-fsync", "--log-level", "warn",
		)
	}
	return c
}

// Start starts every member and waits (bounded) until each is healthy.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	for _, m := range c.Members {
		m.Start(t)
	}
	c.WaitHealthy(t, 60*time.Second)
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// EtcdFlags are the kube-apiserver flags of a client of the cluster
// (--etcd-servers and its TLS files).
func (c *Cluster) EtcdFlags() []string {
	return []string{"--etcd-servers", strings.Join(c.Endpoints(), ","),
		"--etcd-cafile", c.PKI.CAFile(), "--etcd-certfile", c.PKI.ClientCertFile(), "--etcd-keyfile", c.PKI.ClientKeyFile()}
}

// Client returns a client of every member, closed when t ends.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return c.client(t, c.Endpoints()...)
}

func (c *Cluster) client(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	tlsCfg, err := c.PKI.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := etcd.NewClient(endpoints, etcd.WithTLS(tlsCfg), etcd.WithDialTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// WaitHealthy waits up to timeout until every running member answers a
// linearizable read.
func (c *Cluster) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, m := range c.Members {
		if !m.Running() {
			continue
		}
		cl := c.client(t, m.ClientURL)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := cl.Get(ctx, "health")
			cancel()
			if err == nil {
				break
			}
			if !m.Running() {
				t.Fatalf("etcd member %s exited: %s", m.Name, m.Tail(2048))
			}
			if time.Now().After(deadline) {
				t.Fatalf("etcd member %s not healthy after %v: %v", m.Name, timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		cl.Close()
	}
}

// Leader returns the member that is leader, asking each running member
// (bounded: fails t after timeout with no leader).
func (c *Cluster) Leader(t testing.TB, timeout time.Duration) *Member {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range c.Members {
			if !m.Running() {
				continue
			}
			cl := c.client(t, m.ClientURL)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := cl.Status(ctx, m.ClientURL)
			cancel()
			cl.Close()
			if err != nil || st.Leader == 0 {
				continue
			}
			for _, o := range c.Members {
				if o.Running() && c.memberID(t, o) == st.Leader {
					return o
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no etcd leader after %v", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) memberID(t testing.TB, m *Member) uint64 {
	cl := c.client(t, m.ClientURL)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := cl.Status(ctx, m.ClientURL)
	if err != nil {
		return 0
	}
	return st.Header.MemberId
}

// Follower returns a running member that is not the leader.
func (c *Cluster) Follower(t testing.TB) *Member {
	t.Helper()
	l := c.Leader(t, 20*time.Second)
	for _, m := range c.Members {
		if m != l && m.Running() {
			return m
		}
	}
	t.Fatal("no follower running")
	return nil
}
