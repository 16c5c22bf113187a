package value

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// NamedKey is one entry of a provider's key list: the transformer of one key
// and the name it is stored under.
type NamedKey struct {
	Name        string
	Transformer Transformer
}

// ErrNoMatchingKey is the error of a key list that holds no key of the
// name a stored value carries.
var ErrNoMatchingKey = errors.New("no matching key was found for the provider")

type keyList struct {
	provider string
	keys     []NamedKey
	prefixes [][]byte // NAME ":" for each key
	names    string   // the configured key names, for errors
}

// NewKeyList returns the transformer of one provider entry of an
// EncryptionConfiguration (aescbc, aesgcm, secretbox), as kube-apiserver
// builds it: the first key writes NAME ":" followed by its output; a value is
// read by every key whose NAME ":" it starts with, and a value read by any
// key but the first is stale. provider ("aescbc") names the provider in
// errors, which name keys but never hold key material or stored bytes.
// keys must not be empty.
func NewKeyList(provider string, keys ...NamedKey) Transformer {
	l := &keyList{provider: provider, keys: keys}
	names := make([]string, len(keys))
	for i, k := range keys {
		l.prefixes = append(l.prefixes, []byte(k.Name+":"))
		names[i] = fmt.Sprintf("%q", k.Name)
	}
	l.names = strings.Join(names, ", ")
	return l
}

func (l *keyList) TransformFromStorage(ctx context.Context, data []byte, dataCtx Context) ([]byte, bool, error) {
	var errs []error
	for i, k := range l.keys {
		p := l.prefixes[i]
		if !bytes.HasPrefix(data, p) {
			continue
		}
		out, stale, err := k.Transformer.TransformFromStorage(ctx, data[len(p):], dataCtx)
		if err != nil {
			// Names may overlap ("a" and "a:b"): try every match.
			errs = append(errs, fmt.Errorf("%s key %q: %w", l.provider, k.Name, err))
			continue
		}
		return out, stale || i != 0, nil
	}
	if len(errs) > 0 {
		return nil, false, errors.Join(errs...)
	}
	if name, ok := StoredKeyName(data); ok {
		return nil, false, fmt.Errorf("%s: value is under key %q, which is not configured (configured keys: %s): %w",
			l.provider, name, l.names, ErrNoMatchingKey)
	}
	return nil, false, fmt.Errorf("%s: value carries no key name (configured keys: %s): %w", l.provider, l.names, ErrNoMatchingKey)
}

func (l *keyList) TransformToStorage(ctx context.Context, data []byte, dataCtx Context) ([]byte, error) {
	if len(l.keys) == 0 {
		return nil, fmt.Errorf("%s: no key configured for writing", l.provider)
	}
	out, err := l.keys[0].Transformer.TransformToStorage(ctx, data, dataCtx)
	if err != nil {
		return nil, fmt.Errorf("%s key %q: %w", l.provider, l.keys[0].Name, err)
	}
	p := l.prefixes[0]
	res := make([]byte, 0, len(p)+len(out))
	res = append(res, p...)
	return append(res, out...), nil
}

// maxKeyNameInError bounds the key name StoredKeyName reads from a value.
const maxKeyNameInError = 64

// StoredKeyName returns the key name at the start of a value's payload (the
// bytes after a provider prefix such as "k8s:enc:aescbc:v1:"): the text up to
// the first ':'. It reports false unless that text is short printable ASCII,
// so that what it returns is safe to put in an error or a log line.
func StoredKeyName(payload []byte) (string, bool) {
	i := bytes.IndexByte(payload, ':')
	if i <= 0 || i > maxKeyNameInError {
		return "", false
	}
	for _, c := range payload[:i] {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return string(payload[:i]), true
}
