package encryptionconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/regis-dev/regis/internal/storage/value"
)

// described is a resource's provider chain whose "no matching prefix" error
// says what the value is and what the resource reads with.
type described struct {
	t         value.Transformer
	rule      string // the configured resource: "secrets", "*.apps"
	providers string // "aescbc, identity"
}

func (d *described) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	out, stale, err := d.t.TransformFromStorage(ctx, data, dataCtx)
	if err != nil && errors.Is(err, errNoMatchingPrefix) {
		err = fmt.Errorf("%w: the value is %s, and %q reads with %s", err, describeValue(data), d.rule, d.providers)
	}
	return out, stale, err
}

func (d *described) TransformToStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	return d.t.TransformToStorage(ctx, data, dataCtx)
}

var encPrefix = []byte("k8s:enc:")

// describeValue names what wrote a stored value from its public header
// ("k8s:enc:secretbox:v1:key3"), never from its payload.
func describeValue(data []byte) string {
	if !bytes.HasPrefix(data, encPrefix) {
		return "not encrypted (no k8s:enc: prefix)"
	}
	rest := data[len(encPrefix):]
	parts := []string{"k8s", "enc"}
	for range 3 { // provider, version, key or KMS name
		seg, ok := value.StoredKeyName(rest)
		if !ok {
			break
		}
		parts = append(parts, seg)
		rest = rest[len(seg)+1:]
	}
	return fmt.Sprintf("encrypted by %q", strings.Join(parts, ":")+":")
}
