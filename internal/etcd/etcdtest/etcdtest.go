// Package etcdtest starts a real embedded etcd for tests, on loopback ports
// chosen at run time, with its data in a temporary directory.
package etcdtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
)

// Server is a running test etcd.
type Server struct {
	*etcd.Embedded
	dir string
}

// Start starts an etcd in a new temporary directory; Stop removes it.
// Meant for TestMain, so that a package shares one etcd.
func Start() (*Server, error) {
	dir, err := os.MkdirTemp("", "regis-etcd-")
	if err != nil {
		return nil, err
	}
	var e *etcd.Embedded
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken between pick and bind
		e, err = etcd.StartEmbedded(context.Background(), etcd.EmbeddedConfig{
			DataDir:       dir,
			UnsafeNoFsync: true,
			// Progress notifications every second, as upstream's test etcd
			// sends them, so tests of bookmarks finish quickly.
			WatchProgressNotifyInterval: time.Second,
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Server{Embedded: e, dir: dir}, nil
}

// New starts an etcd of its own for one test (or benchmark) and stops it
// when the test ends. Prefer one etcd per package (Run) unless the test
// needs a fresh one, for example because it compacts.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop stops etcd and removes its data.
func (s *Server) Stop() {
	s.Close()
	os.RemoveAll(s.dir)
}

// Client returns a new client of s, closed when t ends.
func (s *Server) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := etcd.NewClient([]string{s.Endpoint})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Run is a TestMain body: it starts etcd, stores it in *srv, runs the tests
// and stops etcd.
func Run(m *testing.M, srv **Server) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest:", err)
		return 1
	}
	*srv = s
	defer s.Stop()
	return m.Run()
}
