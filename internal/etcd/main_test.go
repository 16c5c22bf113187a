package etcd_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

// shared is the package's etcd for tests that do not compact; tests that
// compact start their own with etcdtest.New.
var shared *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &shared)) }

// testLogger logs to the test's output at debug level.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
