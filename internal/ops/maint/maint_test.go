package maint_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/regis-dev/regis/internal/ops/maint"
)

func freeURL(t *testing.T) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

// startCluster starts n real etcd members in process, on loopback ports.
func startCluster(t *testing.T, n int) ([]*embed.Etcd, *clientv3.Client) {
	t.Helper()
	cfgs := make([]*embed.Config, n)
	var initial []string
	for i := range n {
		c := embed.NewConfig()
		c.Name, c.Dir, c.LogLevel, c.UnsafeNoFsync = fmt.Sprint("m", i), t.TempDir(), "error", true
		cu, pu := freeURL(t), freeURL(t)
		c.ListenClientUrls, c.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
		c.ListenPeerUrls, c.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
		initial = append(initial, c.Name+"="+pu.String())
		cfgs[i] = c
	}
	members := make([]*embed.Etcd, n)
	errs := make(chan error, n)
	for i, c := range cfgs {
		c.InitialCluster = strings.Join(initial, ",")
		go func() {
			e, err := embed.StartEtcd(c)
			members[i] = e
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, m := range members {
			if m != nil {
				m.Close()
			}
		}
	})
	for _, m := range members {
		select {
		case <-m.Server.ReadyNotify():
		case <-time.After(30 * time.Second):
			t.Fatal("member not ready")
		}
	}
	var eps []string
	for _, c := range cfgs {
		eps = append(eps, c.AdvertiseClientUrls[0].String())
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return members, c
}

// TestDefragOrder: on a 3-member cluster, defrag takes the followers
// first and the leader last, one at a time; it refuses while a member is
// down.
func TestDefragOrder(t *testing.T) {
	members, c := startCluster(t, 3)
	for i := range 300 {
		if _, err := c.Put(t.Context(), fmt.Sprint("/k/", i%30), strings.Repeat("v", 4096)); err != nil {
			t.Fatal(err)
		}
	}
	var order []maint.Member
	res, err := maint.Defrag(t.Context(), c, maint.DefragOptions{OnStart: func(m maint.Member) { order = append(order, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 3 || len(res) != 3 || order[0].Leader || order[1].Leader || !order[2].Leader {
		t.Fatalf("order: %+v", order)
	}
	for _, r := range res {
		if r.After <= 0 || r.Skipped != "" {
			t.Fatalf("result %+v", r)
		}
	}
	// A member down: refused.
	for i, m := range members {
		if m.Server.MemberID() != m.Server.Leader() {
			m.Close()
			members[i] = nil
			break
		}
	}
	_, err = maint.Defrag(t.Context(), c, maint.DefragOptions{})
	if !errors.Is(err, maint.ErrUnhealthy) {
		t.Fatalf("defrag with a member down: %v", err)
	}
}

// TestDoctor: a healthy 3-member cluster passes every check (hashes
// agree, progress notifications are answered); a certificate close to
// its expiry is a warning; a member down fails.
func TestDoctor(t *testing.T) {
	members, c := startCluster(t, 3)
	for i := range 50 {
		if _, err := c.Put(t.Context(), fmt.Sprint("/d/", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	cert := filepath.Join(t.TempDir(), "client.crt")
	writeCert(t, cert, 10*24*time.Hour)
	findings := maint.Doctor(t.Context(), c, maint.DoctorOptions{CertFiles: []string{cert}})
	got := map[string]string{}
	for _, f := range findings {
		got[f.Check] = f.Status
		if f.Status == maint.Fail {
			t.Errorf("%+v", f)
		}
	}
	for _, check := range []string{"members", "alarms", "progress notify", "hash", "compaction"} {
		if got[check] != maint.OK {
			t.Errorf("%s: %q (%v)", check, got[check], findings)
		}
	}
	if got["certificate"] != maint.Warn {
		t.Errorf("certificate expiring in 10 days: %q", got["certificate"])
	}
	for i, m := range members {
		if m.Server.MemberID() != m.Server.Leader() {
			m.Close()
			members[i] = nil
			break
		}
	}
	failed := false
	for _, f := range maint.Doctor(t.Context(), c, maint.DoctorOptions{}) {
		failed = failed || (strings.HasPrefix(f.Check, "member ") && f.Status == maint.Fail)
	}
	if !failed {
		t.Fatal("a member down is not a failure")
	}
}

func writeCert(t *testing.T, path string, validFor time.Duration) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validFor)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
