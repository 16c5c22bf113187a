package storage

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Continue token errors, worded as upstream words them.
var (
	ErrInvalidStartRV             = errors.New("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
	ErrEmptyStartKey              = errors.New("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
	ErrGenericInvalidKey          = errors.New("continue key is not valid")
	ErrUnrecognizedEncodedVersion = errors.New("continue key is not valid: server does not recognize this encoded version")
)

// continueToken is upstream's token: JSON {"v","rv","start"}, base64 RawURL.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

// DecodeContinue returns the etcd key to resume from and the revision to read
// at (-1 means the latest). Keys that would leave keyPrefix are refused.
func DecodeContinue(continueValue, keyPrefix string) (fromKey string, rv int64, err error) {
	data, err := base64.RawURLEncoding.DecodeString(continueValue)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrGenericInvalidKey, err)
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrGenericInvalidKey, err)
	}
	if c.APIVersion != "meta.k8s.io/v1" {
		return "", 0, fmt.Errorf("%w %v", ErrUnrecognizedEncodedVersion, c.APIVersion)
	}
	if c.ResourceVersion == 0 {
		return "", 0, ErrInvalidStartRV
	}
	if c.StartKey == "" {
		return "", 0, ErrEmptyStartKey
	}
	key := c.StartKey
	if !strings.HasPrefix(key, "/") {
		key = "/" + key
	}
	if cleaned := path.Clean(key); cleaned != key {
		return "", 0, fmt.Errorf("%w: %v", ErrGenericInvalidKey, c.StartKey)
	}
	return keyPrefix + key[1:], c.ResourceVersion, nil
}

// EncodeContinue encodes key (relative to keyPrefix) and resourceVersion as a token.
func EncodeContinue(key, keyPrefix string, resourceVersion int64) (string, error) {
	next := strings.TrimPrefix(key, keyPrefix)
	if next == key {
		return "", fmt.Errorf("unable to encode next field: the key and key prefix do not match")
	}
	out, err := json.Marshal(&continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: resourceVersion, StartKey: next})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// PrepareContinueToken builds a page's continue token (resuming after
// keyLastItem) and, for selector-free lists, the remaining item count.
func PrepareContinueToken(keyLastItem, keyPrefix string, resourceVersion, itemsCount int64, hasMore bool, opts ListOptions) (string, *int64, error) {
	if !hasMore {
		return "", nil, nil
	}
	token, err := EncodeContinue(keyLastItem+"\x00", keyPrefix, resourceVersion)
	if err != nil {
		return "", nil, err
	}
	var remaining *int64
	if opts.Predicate.Empty() {
		n := itemsCount - opts.Predicate.Limit
		remaining = &n
	}
	return token, remaining, nil
}
