package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd/cluster"
	"github.com/regis-dev/regis/internal/ops/maint"
)

// TestMain removes the regis binary that cluster tests build.
func TestMain(m *testing.M) {
	code := m.Run()
	cluster.RemoveBinary()
	os.Exit(code)
}

// TestOpsOnACluster: on a 3-member cluster of real `regis etcd`
// processes over TLS, doctor passes (hashes agree, clocks read over
// HTTPS, certificates checked) and defrag takes the followers first and
// the leader last; with a member killed, defrag refuses and doctor fails.
func TestOpsOnACluster(t *testing.T) {
	c := cluster.StartCluster(t, 3)
	flags := c.EtcdFlags()
	kv := c.Client(t)
	for i := range 200 {
		if _, err := kv.Put(t.Context(), "/registry/configmaps/ns/cm"+string(rune('a'+i%26)), strings.Repeat("v", 2048)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := execute(t, t.Context(), nil, append([]string{"doctor", "-o", "json"}, flags...)...)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	var findings []maint.Finding
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &findings); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range findings {
		if strings.HasPrefix(f.Check, "clock ") || f.Check == "certificate" {
			got[f.Check[:5]] = f.Status
		} else {
			got[f.Check] = f.Status
		}
	}
	if got["hash"] != maint.OK || got["members"] != maint.OK || got["clock"] != maint.OK || got["certi"] != maint.OK {
		t.Fatalf("doctor on the cluster: %+v", findings)
	}

	out, err = execute(t, t.Context(), nil, append([]string{"defrag", "-o", "json"}, flags...)...)
	if err != nil {
		t.Fatalf("defrag: %v\n%s", err, out)
	}
	var res []maint.DefragResult
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res) != 3 || res[0].Member.Leader || res[1].Member.Leader || !res[2].Member.Leader {
		t.Fatalf("defrag order: %+v", res)
	}
	leader := c.Leader(t, 10*time.Second)
	for _, m := range c.Members {
		if m != leader {
			m.Kill()
			break
		}
	}
	out, err = execute(t, t.Context(), nil, append([]string{"defrag"}, flags...)...)
	if err == nil || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("defrag with a member killed: %v\n%s", err, out)
	}
	if _, err := execute(t, t.Context(), nil, append([]string{"doctor"}, flags...)...); err == nil {
		t.Fatal("doctor passes with a member killed")
	}
}
