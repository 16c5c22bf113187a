package inspect

import (
	"strings"

	"github.com/regis-dev/regis/internal/registry"
)

// NormalizeKey turns what an operator types into the etcd key: a key
// without the leading "/" is taken under the etcd prefix ("pods/default/x"
// is "/registry/pods/default/x"), and nodes, which kube-apiserver stores
// under "minions", are found under either spelling.
func NormalizeKey(etcdPrefix, key string) string {
	root := registry.EtcdPathPrefix(etcdPrefix)
	if !strings.HasPrefix(key, "/") {
		key = root + key
	}
	if rest, ok := strings.CutPrefix(key, root+"nodes"); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		key = root + "minions" + rest
	}
	return key
}

// PrefixEnd is the end of the range of keys starting with prefix.
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00" // every key
}
