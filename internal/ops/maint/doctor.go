package maint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Check states.
const (
	OK   = "ok"
	Warn = "warn"
	Fail = "fail"
)

// Finding is the result of one check.
type Finding struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// DoctorOptions configure Doctor.
type DoctorOptions struct {
	// QuotaBytes is the members' --quota-backend-bytes (2 GiB when 0).
	QuotaBytes int64
	// TLS, if set, reaches the members' client URLs over HTTPS for their
	// clocks (the Date of /version).
	TLS *tls.Config
	// CertFiles are the client certificates (and CAs) whose expiry to check.
	CertFiles []string
	// Now is the local clock; time.Now when nil.
	Now func() time.Time
}

// Version floors for consistent reads from the watch cache (KEP-2340):
// etcd 3.4.31 and 3.5.13 answer progress requests correctly.
var versionFloors = map[string]int{"3.4": 31, "3.5": 13}

// Doctor checks an etcd before regis relies on it and says what to fix.
func Doctor(ctx context.Context, c *clientv3.Client, o DoctorOptions) []Finding {
	if o.QuotaBytes <= 0 {
		o.QuotaBytes = 2 << 30
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var out []Finding
	add := func(check, status, detail, fix string) {
		out = append(out, Finding{Check: check, Status: status, Detail: detail, Fix: fix})
	}
	members, err := Members(ctx, c)
	if err != nil {
		add("members", Fail, err.Error(), "check --etcd-servers and the TLS flags")
		return out
	}
	checkMembers(members, add)
	checkVersions(members, add)
	checkSpace(members, o.QuotaBytes, add)
	if alarms, err := Alarms(ctx, c); err != nil {
		add("alarms", Fail, err.Error(), "")
	} else if len(alarms) > 0 {
		var s []string
		for _, a := range alarms {
			s = append(s, a.Alarm+" on "+a.Member)
		}
		add("alarms", Fail, strings.Join(s, ", "), "NOSPACE: compact, regis defrag, then regis alarm disarm; CORRUPT: replace the member from a healthy one")
	} else {
		add("alarms", OK, "none raised", "")
	}
	checkProgress(ctx, c, add)
	checkHashes(ctx, c, members, add)
	checkCompaction(ctx, c, add)
	checkClocks(ctx, members, o, add)
	checkCerts(o, add)
	return out
}

func checkMembers(members []Member, add func(string, string, string, string)) {
	leaders, down := 0, 0
	for _, m := range members {
		if m.Leader {
			leaders++
		}
		if !m.Healthy() {
			down++
			add("member "+m.Name, Fail, fmt.Sprintf("%s: %s%s", m.Endpoint, m.Err, strings.Join(m.Errors, "; ")), "bring the member back, or replace it (etcdctl member remove/add)")
		}
	}
	switch {
	case leaders != 1:
		add("leader", Fail, fmt.Sprintf("%d members say they lead", leaders), "the cluster has no quorum: bring members back")
	case len(members)%2 == 0:
		add("members", Warn, fmt.Sprintf("%d members, %d healthy: an even count tolerates no more failures than one fewer", len(members), len(members)-down), "run 3 or 5 members")
	default:
		add("members", OK, fmt.Sprintf("%d members, %d healthy, one leader", len(members), len(members)-down), "")
	}
}

func checkVersions(members []Member, add func(string, string, string, string)) {
	for _, m := range members {
		if m.Version == "" {
			continue
		}
		parts := strings.SplitN(m.Version, ".", 3)
		if len(parts) < 3 {
			continue
		}
		minor := parts[0] + "." + parts[1]
		patch, _ := strconv.Atoi(strings.SplitN(parts[2], "-", 2)[0])
		major, _ := strconv.Atoi(parts[0])
		mnr, _ := strconv.Atoi(parts[1])
		switch floor, ok := versionFloors[minor]; {
		case major < 3 || (major == 3 && mnr < 4):
			add("version "+m.Name, Fail, "etcd "+m.Version+" is older than 3.4", "upgrade etcd to 3.5.13+ or 3.6")
		case ok && patch < floor:
			add("version "+m.Name, Warn, fmt.Sprintf("etcd %s: consistent reads from the watch cache need %s.%d or later (progress notifications)", m.Version, minor, floor), fmt.Sprintf("upgrade to %s.%d+", minor, floor))
		default:
			add("version "+m.Name, OK, "etcd "+m.Version, "")
		}
	}
}

func checkSpace(members []Member, quota int64, add func(string, string, string, string)) {
	for _, m := range members {
		if m.Err != "" {
			continue
		}
		share := float64(m.DBSize) / float64(quota)
		detail := fmt.Sprintf("database %s, %.0f%% of the quota %s, %.0f%% free pages", human(m.DBSize), 100*share, human(quota), 100*m.Fragmentation())
		switch {
		case share >= 0.8:
			add("space "+m.Name, Fail, detail, "compact and run regis defrag, or raise --quota-backend-bytes (8 GiB at most)")
		case m.Fragmentation() >= 0.5 && m.DBSize-m.DBSizeInUse >= 64<<20:
			add("space "+m.Name, Warn, detail, "regis defrag gives the free pages back")
		default:
			add("space "+m.Name, OK, detail, "")
		}
	}
}

// checkProgress asks for a progress notification on a fresh watch, as
// the watch cache does before serving a consistent read.
func checkProgress(ctx context.Context, c *clientv3.Client, add func(string, string, string, string)) {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), 5*time.Second)
	defer cancel()
	wch := c.Watch(ctx, "/regis-doctor-progress-probe")
	if err := c.RequestProgress(ctx); err != nil {
		add("progress notify", Fail, err.Error(), "")
		return
	}
	for resp := range wch {
		if resp.IsProgressNotify() {
			add("progress notify", OK, fmt.Sprintf("answered at revision %d", resp.Header.Revision), "")
			return
		}
	}
	add("progress notify", Warn, "no progress notification within 5s: consistent lists are served from etcd, not the cache", "upgrade etcd (3.4.31+, 3.5.13+)")
}

// checkHashes compares the members' HashKV at one revision.
func checkHashes(ctx context.Context, c *clientv3.Client, members []Member, add func(string, string, string, string)) {
	resp, err := c.Get(ctx, "/regis-doctor-hash-probe")
	if err != nil {
		add("hash", Fail, err.Error(), "")
		return
	}
	rev := resp.Header.Revision
	hashes := map[uint32][]string{}
	for _, m := range members {
		if m.Err != "" {
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		h, err := c.HashKV(hctx, m.Endpoint, rev)
		cancel()
		if err != nil {
			add("hash", Warn, fmt.Sprintf("%s: HashKV at %d: %v", m.Name, rev, err), "")
			return
		}
		hashes[h.Hash] = append(hashes[h.Hash], m.Name)
	}
	if len(hashes) > 1 {
		add("hash", Fail, fmt.Sprintf("members disagree at revision %d: %v", rev, hashes), "a member is corrupt: replace it from a healthy one")
		return
	}
	add("hash", OK, fmt.Sprintf("%d members agree at revision %d", len(members), rev), "")
}

// checkCompaction finds the compacted revision (a watch from revision 1
// is refused with it) and compares it with the newest.
func checkCompaction(ctx context.Context, c *clientv3.Client, add func(string, string, string, string)) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	head, err := c.Get(ctx, "compact_rev_key")
	if err != nil {
		add("compaction", Fail, err.Error(), "")
		return
	}
	rev := head.Header.Revision
	compacted, err := CompactRevision(ctx, c)
	if err != nil {
		add("compaction", Warn, err.Error(), "")
		return
	}
	behind := rev - compacted
	detail := fmt.Sprintf("revision %d, compacted at %d (%d revisions held)", rev, compacted, behind)
	switch {
	case compacted == 0 && rev > 100_000:
		add("compaction", Warn, detail+": never compacted", "run the servers with --etcd-compaction-interval (5m by default)")
	case behind > 1_000_000:
		add("compaction", Warn, detail+": compaction falls behind", "check --etcd-compaction-interval and that a server runs the compactor")
	default:
		add("compaction", OK, detail, "")
	}
}

// CompactRevision finds the revision etcd was last compacted at: a watch
// from revision 1 is refused with it (0: never compacted).
func CompactRevision(ctx context.Context, c *clientv3.Client) (int64, error) {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := c.Watch(ctx, "/regis-compaction-probe", clientv3.WithRev(1))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
			// Answered once the watch is synced: nothing was compacted.
			if err := c.RequestProgress(ctx); err != nil {
				return 0, err
			}
		case resp, ok := <-wch:
			switch {
			case !ok:
				return 0, ctx.Err()
			case resp.CompactRevision > 0:
				return resp.CompactRevision, nil
			case resp.Err() != nil:
				return 0, resp.Err()
			case resp.IsProgressNotify() || len(resp.Events) > 0:
				return 0, nil
			}
		}
	}
}

// checkClocks compares each member's clock (the Date of its /version)
// with the local one; etcd's leases and TLS need clocks within a second.
func checkClocks(ctx context.Context, members []Member, o DoctorOptions, add func(string, string, string, string)) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: o.TLS}}
	defer hc.CloseIdleConnections()
	for _, m := range members {
		if m.Err != "" {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(m.Endpoint, "/")+"/version", nil)
		if err != nil {
			continue
		}
		before := o.Now()
		resp, err := hc.Do(req)
		if err != nil {
			add("clock "+m.Name, Warn, "could not read its clock: "+err.Error(), "")
			continue
		}
		resp.Body.Close()
		after := o.Now()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			continue
		}
		local := before.Add(after.Sub(before) / 2)
		skew := date.Sub(local.Truncate(time.Second))
		if skew < 0 {
			skew = -skew
		}
		if skew > 2*time.Second {
			add("clock "+m.Name, Warn, fmt.Sprintf("its clock is %s off this machine's", skew.Round(time.Second)), "run NTP (chrony) on every member and server")
		} else {
			add("clock "+m.Name, OK, "within 2s of this machine's (1s resolution)", "")
		}
	}
}

// checkCerts warns on certificates that expire within 30 days.
func checkCerts(o DoctorOptions, add func(string, string, string, string)) {
	for _, f := range o.CertFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			add("certificate", Warn, err.Error(), "")
			continue
		}
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			if block.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				continue
			}
			left := cert.NotAfter.Sub(o.Now())
			detail := fmt.Sprintf("%s (%s) expires %s", f, cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly))
			switch {
			case left <= 0:
				add("certificate", Fail, detail+": expired", "renew it")
			case left < 30*24*time.Hour:
				add("certificate", Warn, fmt.Sprintf("%s, in %d days", detail, int(left.Hours()/24)), "renew it")
			default:
				add("certificate", OK, detail, "")
			}
		}
	}
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
