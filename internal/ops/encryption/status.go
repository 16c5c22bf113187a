package encryption

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage/value/aes"
	"github.com/regis-dev/regis/internal/storage/value/identify"
)

var rpcCompacted = rpctypes.ErrCompacted

// AESGCMWriteLimit is upstream's advice for aesgcm: rotate a key before it
// has encrypted 200,000 values (kubernetes.io, "Encrypting Confidential
// Data at Rest"), since its nonces are random.
const AESGCMWriteLimit = 200_000

// Key states in a report.
const (
	StateWrite      = "write"      // the configuration writes new values with this key
	StateRead       = "read"       // readable, not written any more: a rewrite moves these values
	StateUnreadable = "unreadable" // the configuration cannot read these values
)

// StatusOptions configure Status.
type StatusOptions struct {
	// Prefix is --etcd-prefix ("/registry").
	Prefix string
	// Rules, if set, classify each key: written, only read, or unreadable
	// (peers.RulesOf of a configuration, or a live server's Rules).
	Rules []peers.Rule
	// RulesFrom names where Rules come from, for the report.
	RulesFrom string
	// Resources limits the scan to these resources; empty scans every key
	// under Prefix.
	Resources []schema.GroupResource
	// MaxObjects bounds the objects listed per key that is not the write
	// key (DefaultMaxObjects when zero, none when negative).
	MaxObjects int
	// WriteCounts are the aesgcm write counters (peers.ReadWriteCounts);
	// a File source's own are read from it when nil.
	WriteCounts []peers.WriteCount
	// Progress, if set, is called with the number of keys scanned so far.
	Progress func(scanned int64)
}

// DefaultMaxObjects is how many objects a report lists per stale key.
const DefaultMaxObjects = 20

// Report is the result of Status.
type Report struct {
	Source    string    `json:"source"`
	Revision  int64     `json:"revision"`
	Time      time.Time `json:"time"`
	RulesFrom string    `json:"rulesFrom,omitempty"`
	// Resources are the resources found, by etcd prefix.
	Resources []ResourceStatus `json:"resources"`
	// AESGCM are the aesgcm keys' write counts against AESGCMWriteLimit.
	AESGCM []AESGCMStatus `json:"aesgcm,omitempty"`
	// OtherKeys counts keys under the prefix that hold no object
	// (/registry/health, allocator ranges are objects).
	OtherKeys int64 `json:"otherKeys"`
}

// ResourceStatus is one resource's values, by the key that wrote them.
type ResourceStatus struct {
	Resource string      `json:"resource"` // "secrets", "deployments.apps"
	Prefix   string      `json:"prefix"`   // "/registry/secrets/"
	Total    int64       `json:"total"`
	Write    string      `json:"write,omitempty"` // the write key of Rules
	Keys     []KeyStatus `json:"keys"`
}

// KeyStatus counts the values of one resource under one key.
type KeyStatus struct {
	Key      string `json:"key"` // "identity", "aescbc:key1", "kms-v2:vault"
	Provider string `json:"provider"`
	Name     string `json:"name,omitempty"`
	KeyID    string `json:"keyID,omitempty"` // KMS v2 key_id
	Count    int64  `json:"count"`
	State    string `json:"state,omitempty"` // StateWrite, StateRead, StateUnreadable; "" without rules
	// Objects are the first objects on a key that is not the write key
	// ("namespace/name"), MoreObjects how many more there are.
	Objects     []string `json:"objects,omitempty"`
	MoreObjects int64    `json:"moreObjects,omitempty"`
}

// AESGCMStatus is one aesgcm key's count of values encrypted.
type AESGCMStatus struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Counted is what regis processes counted when encrypting (the
	// counters in etcd).
	Counted int64 `json:"counted"`
	// Stored is how many values under the key etcd holds: live ones, and
	// from a database file the past ones not compacted yet. Every one was
	// a write, so it is a lower bound whoever wrote them.
	Stored int64 `json:"stored"`
	// Writes is the estimate: the larger of Counted and Stored.
	Writes  int64   `json:"writes"`
	Limit   int64   `json:"limit"`
	Percent float64 `json:"percent"`
	Advice  string  `json:"advice"`
}

// Status counts, per resource, the values under each provider and key, as
// their headers say (no key is needed), and compares them with Rules.
func Status(ctx context.Context, src Source, o StatusOptions) (*Report, error) {
	if o.MaxObjects == 0 {
		o.MaxObjects = DefaultMaxObjects
	}
	root := registry.EtcdPathPrefix(o.Prefix)
	rep := &Report{Source: src.Describe(), Time: time.Now().UTC(), RulesFrom: o.RulesFrom}
	byPrefix := map[string]*ResourceStatus{}
	keyIndex := map[string]map[string]int{} // prefix -> key label -> index in Keys
	var scanned int64
	aesStored := map[string]int64{}
	visit := func(kv KV) error {
		scanned++
		if o.Progress != nil && scanned%256 == 0 {
			o.Progress(scanned)
		}
		info, err := builtin.ParseKey(o.Prefix, string(kv.Key))
		if err != nil {
			rep.OtherKeys++
			return nil
		}
		prefix := root + registry.ResourcePrefix(info.Resource) + "/"
		rs, ok := byPrefix[prefix]
		if !ok {
			rs = &ResourceStatus{Resource: info.Resource.String(), Prefix: prefix}
			if len(o.Rules) > 0 {
				rs.Write = writeOf(o.Rules, info.Resource).String()
			}
			byPrefix[prefix] = rs
			keyIndex[prefix] = map[string]int{}
		}
		rs.Total++
		id := identify.Of(kv.Value)
		label := id.String()
		if id.KeyID != "" {
			label += " key_id=" + id.KeyID
		}
		i, ok := keyIndex[prefix][label]
		if !ok {
			i = len(rs.Keys)
			keyIndex[prefix][label] = i
			ks := KeyStatus{Key: id.String(), Provider: id.Provider, Name: id.Key, KeyID: id.KeyID}
			if len(o.Rules) > 0 {
				ks.State = stateOf(o.Rules, info.Resource, id)
			}
			rs.Keys = append(rs.Keys, ks)
		}
		ks := &rs.Keys[i]
		ks.Count++
		if ks.State != "" && ks.State != StateWrite && o.MaxObjects > 0 {
			if len(ks.Objects) < o.MaxObjects {
				ks.Objects = append(ks.Objects, objectName(info))
			} else {
				ks.MoreObjects++
			}
		}
		if id.Provider == identify.AESGCM {
			aesStored[id.Key]++
		}
		return nil
	}
	for _, r := range scanRanges(root, o.Resources) {
		if err := src.Scan(ctx, r[0], r[1], visit); err != nil {
			return nil, err
		}
	}
	if o.Progress != nil {
		o.Progress(scanned)
	}
	rep.Revision = src.Revision()

	// Past values under aesgcm keys, when the source keeps them.
	if hs, ok := src.(HistorySource); ok {
		for k := range aesStored {
			aesStored[k] = 0
		}
		gcm := []byte(aes.GCMPrefix)
		for _, r := range scanRanges(root, o.Resources) {
			if err := hs.ScanHistory(ctx, r[0], r[1], func(_, v []byte) error {
				if bytes.HasPrefix(v, gcm) {
					aesStored[identify.Of(v).Key]++
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
	}
	counts := o.WriteCounts
	if counts == nil {
		if hs, ok := src.(HistorySource); ok {
			var err error
			if counts, err = fileWriteCounts(ctx, hs, o.Prefix); err != nil {
				return nil, err
			}
		}
	}
	rep.AESGCM = aesgcmStatus(aesStored, counts)

	for _, rs := range byPrefix {
		sort.Slice(rs.Keys, func(i, j int) bool { return rs.Keys[i].Count > rs.Keys[j].Count })
		rep.Resources = append(rep.Resources, *rs)
	}
	sort.Slice(rep.Resources, func(i, j int) bool { return rep.Resources[i].Prefix < rep.Resources[j].Prefix })
	return rep, nil
}

// scanRanges are the [start, end) ranges of a scan: the whole prefix, or
// each resource's.
func scanRanges(root string, grs []schema.GroupResource) [][2]string {
	if len(grs) == 0 {
		return [][2]string{{root, prefixEnd(root)}}
	}
	var out [][2]string
	seen := map[string]bool{}
	for _, gr := range grs {
		p := root + registry.ResourcePrefix(gr) + "/"
		if !seen[p] {
			seen[p] = true
			out = append(out, [2]string{p, prefixEnd(p)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// prefixEnd is the end of the range of keys starting with p.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00"
}

func objectName(info builtin.KeyInfo) string {
	if info.Namespace == "" {
		return info.Name
	}
	return info.Namespace + "/" + info.Name
}

func writeOf(rules []peers.Rule, gr schema.GroupResource) peers.KeyRef {
	if r, ok := peers.RuleFor(rules, gr); ok {
		return r.Write
	}
	return peers.Identity
}

// refOf is the KeyRef of a stored value's header, as configurations name
// providers ("kms", not "kms-v2").
func refOf(id identify.Info) peers.KeyRef {
	p := id.Provider
	if p == identify.KMSv2 {
		p = "kms"
	}
	return peers.KeyRef{Provider: p, Key: id.Key}
}

func stateOf(rules []peers.Rule, gr schema.GroupResource, id identify.Info) string {
	ref := refOf(id)
	r, ok := peers.RuleFor(rules, gr)
	if !ok {
		r = peers.Rule{Write: peers.Identity, Read: []peers.KeyRef{peers.Identity}}
	}
	switch {
	case r.Write.Same(ref):
		return StateWrite
	case containsRef(r.Read, ref):
		return StateRead
	}
	return StateUnreadable
}

func containsRef(refs []peers.KeyRef, k peers.KeyRef) bool {
	for _, r := range refs {
		if r.Same(k) {
			return true
		}
	}
	return false
}

func fileWriteCounts(ctx context.Context, src Source, prefix string) ([]peers.WriteCount, error) {
	p := peers.NewLayout(prefix).WriteCounts()
	var values [][]byte
	if err := src.Scan(ctx, p, prefixEnd(p), func(kv KV) error {
		values = append(values, kv.Value)
		return nil
	}); err != nil {
		return nil, err
	}
	return peers.DecodeWriteCounts(values)
}

func aesgcmStatus(stored map[string]int64, counts []peers.WriteCount) []AESGCMStatus {
	byName := map[string]*AESGCMStatus{}
	var out []*AESGCMStatus
	get := func(name, fp string) *AESGCMStatus {
		id := name + "\x00" + fp
		if s, ok := byName[id]; ok {
			return s
		}
		s := &AESGCMStatus{Key: name, Fingerprint: fp, Limit: AESGCMWriteLimit}
		byName[id] = s
		out = append(out, s)
		return s
	}
	names := map[string][]*AESGCMStatus{}
	for _, c := range counts {
		s := get(c.Key, c.Fingerprint)
		s.Counted += c.Writes
		names[c.Key] = append(names[c.Key], s)
	}
	for name, n := range stored {
		// Values carry the key name only: with several counters of one
		// name (the material changed), the newest one is charged.
		if ss := names[name]; len(ss) > 0 {
			ss[len(ss)-1].Stored += n
			continue
		}
		get(name, "").Stored += n
	}
	res := make([]AESGCMStatus, 0, len(out))
	for _, s := range out {
		s.Writes = max(s.Counted, s.Stored)
		s.Percent = float64(s.Writes) * 100 / float64(s.Limit)
		switch {
		case s.Writes >= s.Limit:
			s.Advice = "rotate now: past upstream's 200,000-write advice"
		case s.Writes >= s.Limit*3/4:
			s.Advice = "rotate soon"
		default:
			s.Advice = "ok"
		}
		res = append(res, *s)
	}
	sort.Slice(res, func(i, j int) bool {
		if res[i].Key != res[j].Key {
			return res[i].Key < res[j].Key
		}
		return res[i].Fingerprint < res[j].Fingerprint
	})
	return res
}

// NotOn returns the values of r's resources that are not under the write
// key of their rule (StateRead or StateUnreadable), as "resource key
// count" lines; empty when everything is on its write key.
func (r *Report) NotOn() []string {
	var out []string
	for _, rs := range r.Resources {
		for _, k := range rs.Keys {
			if k.State != "" && k.State != StateWrite {
				out = append(out, fmt.Sprintf("%s: %d on %s (%s)", rs.Resource, k.Count, k.Key, k.State))
			}
		}
	}
	return out
}

// Count returns how many values of the report are under key (a KeyRef
// string such as "aescbc:key1"; "kms:NAME" counts KMS v2 values).
func (r *Report) Count(key peers.KeyRef) int64 {
	var n int64
	for _, rs := range r.Resources {
		for _, k := range rs.Keys {
			if refOf(identify.Info{Provider: k.Provider, Key: k.Name}) == (peers.KeyRef{Provider: key.Provider, Key: key.Key}) {
				n += k.Count
			}
		}
	}
	return n
}

// String is a one-line summary, for logs.
func (r *Report) String() string {
	var parts []string
	for _, rs := range r.Resources {
		var ks []string
		for _, k := range rs.Keys {
			ks = append(ks, fmt.Sprintf("%s=%d", k.Key, k.Count))
		}
		parts = append(parts, rs.Resource+"["+strings.Join(ks, " ")+"]")
	}
	return strings.Join(parts, " ")
}
