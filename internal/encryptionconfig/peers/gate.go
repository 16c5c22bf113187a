package peers

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
)

// Gate is the encryptionconfig.WriteGate of server self: when a new
// configuration changes the key a resource is written with, and a live
// server other than self does not read the new key yet, the configuration
// is applied with the current write key kept first (every key of the new
// configuration is read at once). The server publishes that it reads the
// new key; once every server does, each one's next check applies the new
// write key. So no server writes a value another cannot read, however the
// files reach them: all at once, one by one, or by restarts. A
// configuration that changes the write key and also drops the current one
// is refused until the other servers read the new key.
func Gate(kv clientv3.KV, l Layout, self string) encryptionconfig.WriteGate {
	return func(ctx context.Context, cur *encryptionconfig.Set, cfg *encryptionconfig.EncryptionConfiguration) (*encryptionconfig.EncryptionConfiguration, string, error) {
		regs, err := List(ctx, kv, l)
		if err != nil {
			return nil, "", err
		}
		others := regs[:0]
		for _, r := range regs {
			if r.ID != self {
				others = append(others, r)
			}
		}
		if len(others) == 0 {
			return nil, "", nil
		}
		curRules := RulesOf(cur)
		nextRules := RulesOfKeys(encryptionconfig.KeysOf(cfg))
		out := cfg
		var reasons []string
		seen := map[string]bool{}
		for i, rc := range cfg.Resources {
			for _, res := range rc.Resources {
				if seen[res] { // a later entry only adds read keys
					continue
				}
				seen[res] = true
				gr := schema.ParseGroupResource(res)
				next, now := writeKey(nextRules, gr), writeKey(curRules, gr)
				if next.Same(now) {
					continue
				}
				var lag []string
				for _, o := range others {
					if !o.CanRead(gr, next) {
						lag = append(lag, o.Name())
					}
				}
				if len(lag) == 0 {
					continue
				}
				adj, ok := out.WithWriteKey(i, now.Provider, now.Key, now.Fingerprint)
				if !ok {
					return nil, "", fmt.Errorf("%s: %s cannot read %s yet, and the new configuration no longer has %s to keep writing with",
						res, strings.Join(lag, ", "), next, now)
				}
				out = adj
				reasons = append(reasons, fmt.Sprintf("%s: writing with %s until %s read %s", res, now, strings.Join(lag, ", "), next))
				break // the entry writes with one key for all its resources
			}
		}
		if out == cfg {
			return nil, "", nil
		}
		return out, strings.Join(reasons, "; "), nil
	}
}

func writeKey(rules []Rule, gr schema.GroupResource) KeyRef {
	if r, ok := RuleFor(rules, gr); ok {
		return r.Write
	}
	return Identity
}
