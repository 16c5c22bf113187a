package inspect

import (
	"bytes"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/regis-dev/regis/internal/storage/value/identify"
)

// Segment is a run of a value's bytes and what it is.
type Segment struct {
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	Name   string `json:"name"`
	Note   string `json:"note,omitempty"`
}

// headers of the encrypting providers: provider prefix, then the layout
// of the bytes after "NAME:" (fixed header, its name, what follows).
var providerLayouts = map[string]struct {
	header     int
	headerName string
	rest       string
}{
	identify.AESCBC:    {16, "IV", "AES-CBC ciphertext of the value with PKCS#7 padding (no authenticated data)"},
	identify.AESGCM:    {12, "nonce", "AES-GCM ciphertext and 16-byte tag, the etcd key as authenticated data"},
	identify.Secretbox: {24, "nonce", "NaCl secretbox (XSalsa20-Poly1305): 16-byte tag and ciphertext"},
}

// ExplainStored cuts a value as etcd holds it into its parts: for an
// encrypted value the provider's envelope, else the format's (see
// ExplainPlain).
func ExplainStored(stored []byte) []Segment {
	info := identify.Of(stored)
	if info.Provider == identify.Identity {
		return ExplainPlain(stored)
	}
	prefixLen := bytes.Index(stored, []byte(":v1:"))
	if info.Provider == identify.KMSv2 {
		prefixLen = bytes.Index(stored, []byte(":v2:"))
	}
	if prefixLen < 0 {
		return []Segment{{0, len(stored), "unknown encrypted value", `starts with "k8s:enc:"`}}
	}
	prefixLen += 4
	segs := []Segment{{0, prefixLen, "provider prefix", fmt.Sprintf("%q: %s", stored[:prefixLen], info.Provider)}}
	if info.Key == "" {
		return append(segs, Segment{prefixLen, len(stored) - prefixLen, "ciphertext", "no key name follows the prefix"})
	}
	off := prefixLen + len(info.Key) + 1
	what := "key name"
	if info.Provider == identify.KMSv2 || info.Provider == identify.KMSv1 {
		what = "KMS provider name"
	}
	segs = append(segs, Segment{prefixLen, off - prefixLen, what, fmt.Sprintf("%q and a colon", info.Key)})
	rest := stored[off:]
	if l, ok := providerLayouts[info.Provider]; ok {
		h := min(l.header, len(rest))
		segs = append(segs, Segment{off, h, l.headerName, fmt.Sprintf("%d random bytes", l.header)})
		return append(segs, Segment{off + h, len(rest) - h, "ciphertext", l.rest})
	}
	if info.Provider == identify.KMSv2 {
		return append(segs, protoFields(rest, off, kmsv2Fields)...)
	}
	return append(segs, Segment{off, len(rest), "ciphertext", info.Provider + " (not read by regis)"})
}

var kmsv2Fields = map[protowire.Number]string{
	1: "EncryptedObject.encryptedData: the value sealed with the DEK (AES-GCM)",
	2: "EncryptedObject.keyID: the KMS key that wrapped the DEK",
	3: "EncryptedObject.encryptedDEKSource: the DEK source (seed) wrapped by the KMS",
	4: "EncryptedObject.annotations (one map entry)",
	5: "EncryptedObject.encryptedDEKSourceType (1 = HKDF seed, 0 = AES-GCM key)",
}

var unknownFields = map[protowire.Number]string{
	1: "runtime.Unknown.typeMeta: apiVersion and kind",
	2: "runtime.Unknown.raw: the object, protobuf",
	3: "runtime.Unknown.contentEncoding",
	4: "runtime.Unknown.contentType",
}

// ExplainPlain cuts a plain (decrypted) value into its parts: the
// protobuf envelope "k8s\x00" and runtime.Unknown's fields, the CBOR
// self-describe tag, or a JSON or YAML document.
func ExplainPlain(plain []byte) []Segment {
	switch FormatOf(plain) {
	case FormatProtobuf:
		segs := []Segment{{0, 4, "magic", `"k8s\x00": kube-apiserver's protobuf envelope`}}
		return append(segs, protoFields(plain[4:], 4, unknownFields)...)
	case FormatCBOR:
		return []Segment{{0, 3, "CBOR tag", "self-described CBOR (tag 55799)"}, {3, len(plain) - 3, "object", "a CBOR map"}}
	case FormatJSON:
		return []Segment{{0, len(plain), "object", "JSON"}}
	case FormatYAML:
		return []Segment{{0, len(plain), "object", "YAML"}}
	}
	return []Segment{{0, len(plain), "value", "not a known format"}}
}

// protoFields cuts protobuf data into its fields, named from names.
func protoFields(data []byte, base int, names map[protowire.Number]string) []Segment {
	var segs []Segment
	for off := 0; off < len(data); {
		num, typ, n := protowire.ConsumeTag(data[off:])
		if n < 0 {
			return append(segs, Segment{base + off, len(data) - off, "bad protobuf", protowire.ParseError(n).Error()})
		}
		m := protowire.ConsumeFieldValue(num, typ, data[off+n:])
		if m < 0 {
			return append(segs, Segment{base + off, len(data) - off, "bad protobuf", protowire.ParseError(m).Error()})
		}
		name, ok := names[num]
		if !ok {
			name = fmt.Sprintf("field %d", num)
		}
		seg := Segment{Offset: base + off, Length: n + m, Name: strings.SplitN(name, ":", 2)[0]}
		if i := strings.Index(name, ": "); i > 0 {
			seg.Note = name[i+2:]
		}
		if typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(data[off+n:])
			seg.Note = strings.TrimPrefix(seg.Note+fmt.Sprintf("; %d bytes", len(v)), "; ")
			if num == 1 && names[1] == unknownFields[1] {
				seg.Note += "; " + typeMetaNote(v)
			}
			if num == 2 && names[2] == kmsv2Fields[2] {
				seg.Note += fmt.Sprintf("; %q", v)
			}
		}
		segs = append(segs, seg)
		off += n + m
	}
	return segs
}

// typeMetaNote reads runtime.TypeMeta's apiVersion (1) and kind (2).
func typeMetaNote(b []byte) string {
	var parts []string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			break
		}
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			break
		}
		switch num {
		case 1:
			parts = append(parts, "apiVersion="+string(v))
		case 2:
			parts = append(parts, "kind="+string(v))
		}
		b = b[n+m:]
	}
	return strings.Join(parts, " ")
}

// Hexdump renders data as `hexdump -C` does, with offsets from base.
func Hexdump(data []byte, base int) string {
	var sb strings.Builder
	for i := 0; i < len(data); i += 16 {
		line := data[i:min(i+16, len(data))]
		fmt.Fprintf(&sb, "%08x  ", base+i)
		for j := 0; j < 16; j++ {
			if j < len(line) {
				fmt.Fprintf(&sb, "%02x ", line[j])
			} else {
				sb.WriteString("   ")
			}
			if j == 7 {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(" |")
		for _, c := range line {
			if c < 32 || c > 126 {
				c = '.'
			}
			sb.WriteByte(c)
		}
		sb.WriteString("|\n")
	}
	return sb.String()
}
