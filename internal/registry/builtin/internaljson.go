package builtin

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// internalJSON prints a value of a k8s.io/api type as upstream's
// validation messages print the internal type it converts to: the internal
// types have no JSON names, so encoding/json uses the Go field names and
// omits nothing ("field is immutable" values such as a job's template).
// Embedded ObjectMeta is inlined (internal types embed it untagged);
// apimachinery types and those with their own JSON form keep it.
type internalJSON struct{ v any }

func (j internalJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	err := writeInternal(&b, reflect.ValueOf(j.v))
	return b.Bytes(), err
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

func writeInternal(b *bytes.Buffer, v reflect.Value) error {
	if !v.IsValid() {
		b.WriteString("null")
		return nil
	}
	t := v.Type()
	if keepsJSON(t) {
		if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.IsNil() {
			b.WriteString("null")
			return nil
		}
		data, err := json.Marshal(v.Interface())
		b.Write(data)
		return err
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return writeInternal(b, v.Elem())
	case reflect.Struct:
		b.WriteByte('{')
		first := true
		if err := writeFields(b, v, &first); err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			data, err := json.Marshal(v.Interface())
			b.Write(data)
			return err
		}
		fallthrough
	case reflect.Array:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeInternal(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			name, _ := json.Marshal(k.String())
			b.Write(name)
			b.WriteByte(':')
			if err := writeInternal(b, v.MapIndex(k)); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	data, err := json.Marshal(v.Interface())
	b.Write(data)
	return err
}

// writeFields writes the fields of struct v, inlining embedded structs
// and ObjectMeta.
func writeFields(b *bytes.Buffer, v reflect.Value, first *bool) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && (f.Anonymous && !keepsJSON(f.Type)) {
			if err := writeFields(b, fv, first); err != nil {
				return err
			}
			continue
		}
		if f.Name == "ObjectMeta" || f.Name == "TypeMeta" {
			// Embedded in the internal types: its JSON fields are inlined.
			data, err := json.Marshal(fv.Interface())
			if err != nil {
				return err
			}
			if inner := bytes.TrimSpace(data[1 : len(data)-1]); len(inner) > 0 {
				if !*first {
					b.WriteByte(',')
				}
				b.Write(inner)
				*first = false
			}
			continue
		}
		if !*first {
			b.WriteByte(',')
		}
		*first = false
		name, _ := json.Marshal(f.Name)
		b.Write(name)
		b.WriteByte(':')
		if err := writeInternal(b, fv); err != nil {
			return err
		}
	}
	return nil
}

// keepsJSON tells the types printed with their own JSON form: those of
// apimachinery (shared by internal and versioned types) and those with a
// MarshalJSON (quantities, times, int-or-strings).
func keepsJSON(t reflect.Type) bool {
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return true
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "k8s.io/apimachinery/")
}
