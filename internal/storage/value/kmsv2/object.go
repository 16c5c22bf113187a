package kmsv2

import (
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SourceType is EncryptedObject.encryptedDEKSourceType: how the decrypted
// DEK source becomes the key of EncryptedData.
type SourceType int32

const (
	// SourceAESGCMKey: the DEK source is the AES-GCM key itself (written by
	// kube-apiserver only before the KDF mode; regis reads it, stale).
	SourceAESGCMKey SourceType = 0
	// SourceHKDFSeed: the DEK source is a seed; each value carries 32 info
	// bytes, and its key is HKDF-Expand(SHA-256, seed, info, 32).
	SourceHKDFSeed SourceType = 1
)

// Limits kube-apiserver enforces on every encode and decode.
const (
	MaxKeyIDSize       = 1024
	maxDEKSourceSize   = 1024
	maxAnnotationsSize = 32 * 1024
)

// EncryptedObject is the message stored after the prefix
// (apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2/api.proto):
//
//	bytes encryptedData = 1; string keyID = 2; bytes encryptedDEKSource = 3;
//	map<string, bytes> annotations = 4; EncryptedDEKSourceType encryptedDEKSourceType = 5;
type EncryptedObject struct {
	EncryptedData      []byte
	KeyID              string
	EncryptedDEKSource []byte
	Annotations        map[string][]byte
	SourceType         SourceType
}

// Protobuf field numbers of EncryptedObject and of its map entries.
const (
	fieldData        protowire.Number = 1
	fieldKeyID       protowire.Number = 2
	fieldDEKSource   protowire.Number = 3
	fieldAnnotations protowire.Number = 4
	fieldSourceType  protowire.Number = 5
	fieldMapKey      protowire.Number = 1
	fieldMapValue    protowire.Number = 2
)

// Marshal validates o and encodes it as Go's proto.Marshal does (fields in
// number order, proto3 zero values omitted, map entries with both key and
// value), with annotations in key order.
func (o *EncryptedObject) Marshal() ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tail := o.appendTail(nil)
	b := make([]byte, 0, protowire.SizeTag(fieldData)+protowire.SizeBytes(len(o.EncryptedData))+len(tail))
	b = appendBytes(b, fieldData, o.EncryptedData)
	return append(b, tail...), nil
}

// appendTail appends the encoding of every field but EncryptedData, which
// comes first: a writer encodes it once per seed.
func (o *EncryptedObject) appendTail(b []byte) []byte {
	b = appendBytes(b, fieldKeyID, []byte(o.KeyID))
	b = appendBytes(b, fieldDEKSource, o.EncryptedDEKSource)
	keys := make([]string, 0, len(o.Annotations))
	for k := range o.Annotations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := o.Annotations[k]
		entry := protowire.SizeTag(fieldMapKey) + protowire.SizeBytes(len(k)) +
			protowire.SizeTag(fieldMapValue) + protowire.SizeBytes(len(v))
		b = protowire.AppendTag(b, fieldAnnotations, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(entry))
		b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
		b = protowire.AppendBytes(b, v)
	}
	if o.SourceType != 0 {
		b = protowire.AppendTag(b, fieldSourceType, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(o.SourceType)))
	}
	return b
}

func appendBytes(b []byte, n protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// Errors of a stored EncryptedObject that does not parse.
var (
	ErrMalformed   = errors.New("malformed EncryptedObject")
	errInvalidUTF8 = errors.New("string field contains invalid UTF-8")
)

// UnmarshalEncryptedObject parses and validates data as Go's proto.Unmarshal
// and kube-apiserver's checks do: any field order, last value wins, unknown
// fields skipped, strings must be UTF-8. The result aliases data.
func UnmarshalEncryptedObject(data []byte) (*EncryptedObject, error) {
	o := &EncryptedObject{}
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, protowire.ParseError(n))
		}
		data = data[n:]
		var err error
		switch {
		case num == fieldData && typ == protowire.BytesType:
			o.EncryptedData, n = protowire.ConsumeBytes(data)
		case num == fieldKeyID && typ == protowire.BytesType:
			var v []byte
			if v, n = protowire.ConsumeBytes(data); n >= 0 && !utf8.Valid(v) {
				err = errInvalidUTF8
			}
			o.KeyID = string(v)
		case num == fieldDEKSource && typ == protowire.BytesType:
			o.EncryptedDEKSource, n = protowire.ConsumeBytes(data)
		case num == fieldAnnotations && typ == protowire.BytesType:
			var entry []byte
			if entry, n = protowire.ConsumeBytes(data); n >= 0 {
				err = o.addAnnotation(entry)
			}
		case num == fieldSourceType && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(data)
			o.SourceType = SourceType(int32(v))
		default:
			n = protowire.ConsumeFieldValue(num, typ, data)
		}
		if n < 0 {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, protowire.ParseError(n))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		data = data[n:]
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// addAnnotation parses one map entry; a missing key or value is empty.
func (o *EncryptedObject) addAnnotation(entry []byte) error {
	var key string
	var val []byte
	for len(entry) > 0 {
		num, typ, n := protowire.ConsumeTag(entry)
		if n < 0 {
			return protowire.ParseError(n)
		}
		entry = entry[n:]
		switch {
		case num == fieldMapKey && typ == protowire.BytesType:
			var k []byte
			if k, n = protowire.ConsumeBytes(entry); n >= 0 && !utf8.Valid(k) {
				return errInvalidUTF8
			}
			key = string(k)
		case num == fieldMapValue && typ == protowire.BytesType:
			val, n = protowire.ConsumeBytes(entry)
		default:
			n = protowire.ConsumeFieldValue(num, typ, entry)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		entry = entry[n:]
	}
	if o.Annotations == nil {
		o.Annotations = map[string][]byte{}
	}
	if val == nil {
		val = []byte{}
	}
	o.Annotations[key] = val
	return nil
}

// Validate applies kube-apiserver's checks (ValidateEncryptedObject).
func (o *EncryptedObject) Validate() error {
	switch o.SourceType {
	case SourceAESGCMKey, SourceHKDFSeed:
	default:
		return fmt.Errorf("unknown encryptedDEKSourceType: %d", o.SourceType)
	}
	if len(o.EncryptedData) == 0 {
		return errors.New("encrypted data is empty")
	}
	switch n := len(o.EncryptedDEKSource); {
	case n == 0:
		return errors.New("failed to validate encrypted DEK source: encrypted DEK source is empty")
	case n > maxDEKSourceSize:
		return fmt.Errorf("failed to validate encrypted DEK source: encrypted DEK source is %d bytes, which exceeds the max size of %d", n, maxDEKSourceSize)
	}
	if err := ValidateKeyID(o.KeyID); err != nil {
		return fmt.Errorf("failed to validate key id: %w", err)
	}
	var errs []error
	size := 0
	for k, v := range o.Annotations {
		if fe := validation.IsFullyQualifiedDomainName(field.NewPath("annotations"), k); len(fe) > 0 {
			errs = append(errs, fe.ToAggregate())
		}
		size += len(k) + len(v)
	}
	if size > maxAnnotationsSize {
		errs = append(errs, fmt.Errorf("total size of annotations is %d, which exceeds the max size of %d", size, maxAnnotationsSize))
	}
	if len(errs) > 0 {
		return fmt.Errorf("failed to validate annotations: %w", errors.Join(errs...))
	}
	return nil
}

// ValidateKeyID checks a key ID from the plugin or from a stored value: not
// empty, at most MaxKeyIDSize bytes.
func ValidateKeyID(keyID string) error {
	switch n := len(keyID); {
	case n == 0:
		return errors.New("keyID is empty")
	case n > MaxKeyIDSize:
		return fmt.Errorf("keyID is %d bytes, which exceeds the max size of %d", n, MaxKeyIDSize)
	}
	return nil
}
