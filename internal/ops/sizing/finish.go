package sizing

import (
	"fmt"
	"strings"
)

// AddDB records the database size of one member (or of the file).
func (r *Report) AddDB(db DB) {
	if db.Size > 0 {
		db.Fragmented = float64(db.Size-db.InUse) / float64(db.Size)
	}
	r.DB = append(r.DB, db)
}

// AddMetrics adds the server's figures per resource: watches open and
// reads and writes a second (see Rates).
func (r *Report) AddMetrics(from string, rates map[string]Rate) {
	r.Metrics = from
	seen := map[string]bool{}
	for i := range r.Resources {
		rs := &r.Resources[i]
		if rt, ok := rates[rs.Resource]; ok {
			rs.Watches, rs.ReadsPerS, rs.WritesPerS = rt.Watches, rt.ReadsPerS, rt.WritesPerS
			seen[rs.Resource] = true
		}
	}
	for res, rt := range rates {
		if !seen[res] && (rt.Watches > 0 || rt.ReadsPerS > 0 || rt.WritesPerS > 0) {
			r.Resources = append(r.Resources, ResourceSize{Resource: res, Watches: rt.Watches, ReadsPerS: rt.ReadsPerS, WritesPerS: rt.WritesPerS})
		}
	}
}

// Finish recommends the tier and lists the warnings; quota is
// --quota-backend-bytes (DefaultQuota when 0).
func (r *Report) Finish(quota int64) {
	if quota <= 0 {
		quota = DefaultQuota
	}
	r.QuotaBytes = quota
	r.Recommendation = Recommend(r.Nodes, r.Pods)
	warn := func(format string, a ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...)) }
	if r.Recommendation.Beyond {
		warn("the cluster is past the largest tier of the table (%s): plan a dedicated etcd for events and measure latencies", r.Recommendation.DrivenBy)
	}
	if quota > SuggestedMaxDB {
		warn("--quota-backend-bytes %s is above etcd's suggested maximum of 8 GiB", Bytes(quota))
	}
	for _, db := range r.DB {
		switch {
		case db.Unreachable != "":
			warn("member %s did not answer: %s", db.Member, db.Unreachable)
			continue
		case db.Size >= quota:
			warn("member %s: database %s has reached the quota %s: writes fail with NOSPACE until it is compacted, defragmented (regis defrag) and the alarm disarmed (regis alarm disarm)", db.Member, Bytes(db.Size), Bytes(quota))
		case float64(db.Size) >= QuotaWarnShare*float64(quota):
			warn("member %s: database %s is %.0f%% of the quota %s: compact and defragment (regis defrag), or raise --quota-backend-bytes (at most 8 GiB)", db.Member, Bytes(db.Size), 100*float64(db.Size)/float64(quota), Bytes(quota))
		}
		if db.Size > SuggestedMaxDB {
			warn("member %s: database %s is above etcd's suggested maximum of 8 GiB", db.Member, Bytes(db.Size))
		}
		if db.Fragmented >= 0.5 && db.Size-db.InUse >= 64<<20 {
			warn("member %s: %.0f%% of the database (%s) is free pages: regis defrag gives it back", db.Member, 100*db.Fragmented, Bytes(db.Size-db.InUse))
		}
	}
	var big []string
	for _, o := range r.Largest {
		if o.Size > LargeObjectBytes {
			big = append(big, fmt.Sprintf("%s (%s)", o.Key, Bytes(int64(o.Size))))
		}
	}
	if len(big) > 0 {
		warn("%d object(s) over 1 MiB (etcd refuses requests over 1.5 MiB by default; every watcher gets the whole object on each change): %s", len(big), strings.Join(big, ", "))
	}
	r.warnChurn(warn)
}

// warnChurn warns when events or leases make most of the writes: from the
// revisions held, else from the request rates.
func (r *Report) warnChurn(warn func(string, ...any)) {
	var events, leases, all float64
	basis := ""
	for _, rs := range r.Resources {
		v := float64(rs.Revisions)
		if r.Revisions == 0 {
			v = rs.WritesPerS
		}
		all += v
		switch rs.Resource {
		case "events", "events.events.k8s.io":
			events += v
		case "leases.coordination.k8s.io":
			leases += v
		}
	}
	switch {
	case r.Revisions > 0:
		basis = "of the revisions etcd holds"
	case all > 0:
		basis = "of the writes a second"
	default:
		return
	}
	if events/all > 0.5 {
		warn("events are %.0f%% %s: give them an etcd of their own with kube-apiserver's --etcd-servers-overrides=/events#https://events-etcd:2379, and keep --event-ttl short", 100*events/all, basis)
	}
	if leases/all > 0.5 {
		warn("leases are %.0f%% %s: node heartbeats and leader elections dominate writes; size the disk for their fsync rate", 100*leases/all, basis)
	}
	if r.Revisions > 0 && r.Objects > 0 && r.Revisions > 20*r.Objects && r.Revisions > 10000 {
		warn("etcd holds %s revisions for %s objects: compaction may be falling behind (kube-apiserver's --etcd-compaction-interval, 5m by default)", count(r.Revisions), count(r.Objects))
	}
}

// Bytes renders a size: "512 B", "1.5 KiB", "2.0 GiB".
func Bytes(n int64) string {
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
