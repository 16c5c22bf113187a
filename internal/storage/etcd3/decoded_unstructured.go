package etcd3

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// unstructuredDecoded is unstructuredAsDecoded, false when it panics.
func (s *Store) unstructuredDecoded(u, o *unstructured.Unstructured, data []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false // a value the plans did not foresee: the decode is right
		}
	}()
	return s.unstructuredAsDecoded(u, o, data)
}

// unstructuredAsDecoded is asDecoded for a custom resource stored as JSON
// (codec.NewCustom: encoding/json of the object with the storage
// apiVersion; decoded by apimachinery's unstructured scheme, which reads
// integers as int64 and other numbers as float64).
func (s *Store) unstructuredAsDecoded(obj, out *unstructured.Unstructured, data []byte) bool {
	apiVersion, ok := storedAPIVersion(data)
	if !ok || obj.Object == nil {
		return false
	}
	if _, err := schema.ParseGroupVersion(apiVersion); err != nil {
		return false
	}
	if kind, _ := obj.Object["kind"].(string); kind == "" {
		return false // the decode fails
	}
	m, same, ok := jsonDecodedMap(obj.Object)
	if !ok {
		return false
	}
	if v, isString := m["apiVersion"].(string); !isString || v != apiVersion {
		if same {
			m = shallowCopy(m)
		}
		m["apiVersion"] = apiVersion
	}
	out.Object = m
	return true
}

// storedAPIVersion reads the apiVersion encoding/json wrote first (map
// keys sorted) when it is the first key and needs no unescaping.
func storedAPIVersion(data []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(`{"apiVersion":"`))
	if !ok {
		return "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	return string(rest[:end]), true
}

// jsonDecodedMap returns m as a JSON round trip leaves it: m itself
// (same) if it is already so, else a copy (m is not written). False: a
// value whose round trip it does not know.
func jsonDecodedMap(m map[string]any) (d map[string]any, same, ok bool) {
	var c map[string]any
	for k, v := range m {
		if !utf8.ValidString(k) {
			return nil, false, false
		}
		d, same, ok := jsonDecoded(v)
		if !ok {
			return nil, false, false
		}
		if same {
			continue
		}
		if c == nil {
			c = shallowCopy(m)
		}
		c[k] = d
	}
	if c == nil {
		return m, true, true
	}
	return c, false, true
}

// jsonDecoded returns v as a JSON round trip leaves it, whether that is v
// itself, and false for a value it does not know.
func jsonDecoded(v any) (any, bool, bool) {
	switch x := v.(type) {
	case nil, bool, int64:
		return v, true, true
	case string:
		return v, true, utf8.ValidString(x)
	case float64:
		if i, ok := jsonInt(x); ok {
			return i, false, true
		}
		return v, true, !math.IsNaN(x) && !math.IsInf(x, 0)
	case map[string]any:
		if x == nil {
			return nil, false, true // null
		}
		return jsonDecodedMap(x)
	case []any:
		if x == nil {
			return nil, false, true // null
		}
		var c []any
		for i, e := range x {
			d, same, ok := jsonDecoded(e)
			if !ok {
				return nil, false, false
			}
			if same {
				continue
			}
			if c == nil {
				c = append([]any(nil), x...)
			}
			c[i] = d
		}
		if c == nil {
			return v, true, true
		}
		return c, false, true
	}
	return nil, false, false
}

// jsonInt reports whether encoding/json writes f as an integer literal
// that fits an int64, which the decoder then reads as an int64.
func jsonInt(f float64) (int64, bool) {
	abs := math.Abs(f)
	if math.IsNaN(f) || math.IsInf(f, 0) || abs >= 1e21 || (abs != 0 && abs < 1e-6) {
		return 0, false // written with an exponent, or not at all
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if strings.Contains(s, ".") {
		return 0, false
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}
