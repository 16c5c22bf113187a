// Package peers coordinates the encryption at rest of the regis servers
// that share one etcd, through a few raw etcd keys outside the API's key
// space:
//
//	/regis<etcd-prefix>/encryption/servers/<server id>       one per live server, under a lease
//	/regis<etcd-prefix>/encryption/aesgcm-writes/<fingerprint> values encrypted per aesgcm key
//	/regis<etcd-prefix>/encryption/rewrite                    the checkpoint of a rewrite
//
// (/regis/registry/encryption/... with the default --etcd-prefix). Each
// server publishes, under a lease it keeps alive, the keys it reads and the
// key it writes with for each configured resource (Publisher); a rotation
// promotes a key to write key only once every live server can read it
// (Wait), and each server's reloader keeps its current write key while
// another server cannot read the new one (Gate), so no server writes a
// value another server cannot read, whichever way its file changed. Servers
// also add up how many values each aesgcm key encrypted (WriteCounter),
// which `regis encryption status` compares with upstream's advice to
// rotate an aesgcm key before 200,000 writes.
//
// Registrations name keys and carry their fingerprints
// (encryptionconfig.Fingerprint), never key material.
package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
)

// Layout is where the coordination keys of one --etcd-prefix live.
type Layout struct {
	root string // "/regis/registry/encryption/"
}

// NewLayout returns the layout of the servers using etcdPrefix
// (--etcd-prefix, "/registry" by default).
func NewLayout(etcdPrefix string) Layout {
	return Layout{root: path.Join("/regis", etcdPrefix, "encryption") + "/"}
}

// Root is the prefix of every coordination key.
func (l Layout) Root() string { return l.root }

// Servers is the prefix of the servers' registrations.
func (l Layout) Servers() string { return l.root + "servers/" }

// Server is the registration key of server id.
func (l Layout) Server(id string) string { return l.Servers() + id }

// WriteCounts is the prefix of the aesgcm write counters.
func (l Layout) WriteCounts() string { return l.root + "aesgcm-writes/" }

// WriteCount is the counter key of the aesgcm key with this fingerprint.
func (l Layout) WriteCount(fingerprint string) string { return l.WriteCounts() + fingerprint }

// Rewrite is the key of the rewrite checkpoint.
func (l Layout) Rewrite() string { return l.root + "rewrite" }

// KeyRef names one key of a provider: "aescbc:key1", "kms:vault",
// "identity".
type KeyRef struct {
	Provider string `json:"provider"`
	// Key is the key name, the KMS provider name for kms, "" for identity.
	Key string `json:"key,omitempty"`
	// Fingerprint is encryptionconfig.Fingerprint of the key material, ""
	// for identity and kms.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Identity is the KeyRef of unencrypted values.
var Identity = KeyRef{Provider: "identity"}

// String renders "provider:key", or the provider alone.
func (k KeyRef) String() string {
	if k.Key == "" {
		return k.Provider
	}
	return k.Provider + ":" + k.Key
}

// Same reports whether k and o are the same key: same provider and name,
// and the same material where both know it.
func (k KeyRef) Same(o KeyRef) bool {
	if k.Provider != o.Provider || k.Key != o.Key {
		return false
	}
	return k.Fingerprint == "" || o.Fingerprint == "" || k.Fingerprint == o.Fingerprint
}

// Rule is what a server does for one configured resource ("secrets",
// "*.apps", "*.*").
type Rule struct {
	Resource string   `json:"resource"`
	Write    KeyRef   `json:"write"`
	Read     []KeyRef `json:"read"` // every key it reads, the write key first
}

// Registration is what a server publishes about itself.
type Registration struct {
	ID         string    `json:"id"`
	Hostname   string    `json:"hostname,omitempty"`
	PID        int       `json:"pid,omitempty"`
	ConfigHash string    `json:"configHash,omitempty"` // "" without a configuration
	Updated    time.Time `json:"updated"`
	Rules      []Rule    `json:"rules,omitempty"`
}

// RulesOf lists the rules of a configuration, in configuration order; a
// nil Set (no configuration) has none: identity everywhere.
func RulesOf(set *encryptionconfig.Set) []Rule { return RulesOfKeys(set.Keys()) }

// RulesOfKeys lists the rules of a configuration's keys (Set.Keys, or
// encryptionconfig.KeysOf a parsed configuration).
func RulesOfKeys(keys []encryptionconfig.KeyInfo) []Rule {
	var rules []Rule
	index := map[string]int{}
	for _, k := range keys {
		ref := KeyRef{Provider: k.Provider, Key: k.Key, Fingerprint: k.Fingerprint}
		i, ok := index[k.Resource]
		if !ok {
			// A resource's first key is its write key, even when it is
			// named by several entries (their chains are appended).
			index[k.Resource] = len(rules)
			rules = append(rules, Rule{Resource: k.Resource, Write: ref, Read: []KeyRef{ref}})
			continue
		}
		rules[i].Read = append(rules[i].Read, ref)
	}
	return rules
}

// RuleFor resolves gr as kube-apiserver does: the rule of gr, else of
// "*.<group>", else of "*.*". false means identity (no rule).
func RuleFor(rules []Rule, gr schema.GroupResource) (Rule, bool) {
	for _, want := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
		for _, r := range rules {
			if schema.ParseGroupResource(r.Resource) == want {
				return r, true
			}
		}
	}
	return Rule{}, false
}

// Writes is the key the server writes gr with.
func (r Registration) Writes(gr schema.GroupResource) KeyRef {
	if rule, ok := RuleFor(r.Rules, gr); ok {
		return rule.Write
	}
	return Identity
}

// CanRead reports whether the server reads values of gr under k.
func (r Registration) CanRead(gr schema.GroupResource, k KeyRef) bool {
	rule, ok := RuleFor(r.Rules, gr)
	if !ok {
		return k.Provider == Identity.Provider
	}
	return slices.ContainsFunc(rule.Read, k.Same)
}

// Name is how messages name the server: "id (hostname)".
func (r Registration) Name() string {
	if r.Hostname == "" || strings.Contains(r.ID, r.Hostname) {
		return r.ID
	}
	return r.ID + " (" + r.Hostname + ")"
}

// List returns the registrations of the live servers, by ID.
func List(ctx context.Context, kv clientv3.KV, l Layout) ([]Registration, error) {
	resp, err := kv.Get(ctx, l.Servers(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list regis servers: %w", err)
	}
	regs := make([]Registration, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var r Registration
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return nil, fmt.Errorf("registration %s: %w", kv.Key, err)
		}
		regs = append(regs, r)
	}
	sort.Slice(regs, func(i, j int) bool { return regs[i].ID < regs[j].ID })
	return regs, nil
}

// Check tells why a server is not ready yet for a step of a rotation; nil
// when it is.
type Check func(Registration) error

// ReadsKey is the Check that every server reads gr's values under k.
func ReadsKey(gr schema.GroupResource, k KeyRef) Check {
	return func(r Registration) error {
		if r.CanRead(gr, k) {
			return nil
		}
		return fmt.Errorf("cannot read %s values under %s yet", gr, k)
	}
}

// WritesWith is the Check that every server writes gr with k.
func WritesWith(gr schema.GroupResource, k KeyRef) Check {
	return func(r Registration) error {
		if w := r.Writes(gr); !w.Same(k) {
			return fmt.Errorf("writes %s with %s, not %s yet", gr, w, k)
		}
		return nil
	}
}

// Lagging is a server that does not pass a Check yet.
type Lagging struct {
	Server Registration
	Err    error
}

// Laggards returns the servers among regs that fail any of checks.
func Laggards(regs []Registration, checks ...Check) []Lagging {
	var out []Lagging
	for _, r := range regs {
		for _, c := range checks {
			if err := c(r); err != nil {
				out = append(out, Lagging{Server: r, Err: err})
				break
			}
		}
	}
	return out
}

// DefaultPollInterval is how often Wait lists the servers.
const DefaultPollInterval = 500 * time.Millisecond

// WaitOptions tune Wait.
type WaitOptions struct {
	// Interval between two listings; zero means DefaultPollInterval.
	Interval time.Duration
	// MinServers also waits until at least that many servers are live.
	MinServers int
	// Progress, if not nil, is called after each listing that is not
	// ready yet, with the live servers and those still lagging.
	Progress func(live int, lagging []Lagging)
}

// Wait lists the live servers every interval until every one passes
// checks (and there are at least MinServers), and returns them. A server
// that stops (its lease revoked or expired) stops being waited for. On
// ctx's end the error names the servers still lagging.
func Wait(ctx context.Context, kv clientv3.KV, l Layout, o WaitOptions, checks ...Check) ([]Registration, error) {
	if o.Interval <= 0 {
		o.Interval = DefaultPollInterval
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		regs, err := List(ctx, kv, l)
		if err != nil {
			return nil, err
		}
		lag := Laggards(regs, checks...)
		if len(lag) == 0 && len(regs) >= o.MinServers {
			return regs, nil
		}
		if o.Progress != nil {
			o.Progress(len(regs), lag)
		}
		select {
		case <-ctx.Done():
			msgs := make([]string, 0, len(lag)+1)
			for _, g := range lag {
				msgs = append(msgs, g.Server.Name()+": "+g.Err.Error())
			}
			if len(regs) < o.MinServers {
				msgs = append(msgs, fmt.Sprintf("%d server(s) live, want at least %d", len(regs), o.MinServers))
			}
			return nil, fmt.Errorf("waiting for the regis servers: %s: %w", strings.Join(msgs, "; "), context.Cause(ctx))
		case <-t.C:
		}
	}
}
