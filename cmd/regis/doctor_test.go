package main

import (
	"strings"
	"testing"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

// TestDoctorCommand: a healthy etcd passes; the table says what was
// checked.
func TestDoctorCommand(t *testing.T) {
	srv := etcdtest.New(t)
	out, err := execute(t, t.Context(), nil, "doctor", "--etcd-servers", srv.Endpoint)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, want := range []string{"progress notify  ok", "hash", "alarms", "compaction", "clock"} {
		if !strings.Contains(out, want) {
			t.Fatalf("doctor lacks %q:\n%s", want, out)
		}
	}
}
