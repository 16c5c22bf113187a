package value_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/regis-dev/regis/internal/storage/value"
)

// tagTransformer writes TAG ‖ data and reads only values starting with TAG.
type tagTransformer string

var errNotMine = errors.New("not mine")

func (t tagTransformer) TransformFromStorage(_ context.Context, data []byte, _ value.Context) ([]byte, bool, error) {
	if !bytes.HasPrefix(data, []byte(t)) {
		return nil, false, errNotMine
	}
	return data[len(t):], false, nil
}

func (t tagTransformer) TransformToStorage(_ context.Context, data []byte, _ value.Context) ([]byte, error) {
	return append([]byte(t), data...), nil
}

func TestKeyList(t *testing.T) {
	l := value.NewKeyList("aescbc",
		value.NamedKey{Name: "k2", Transformer: tagTransformer("<2>")},
		value.NamedKey{Name: "k1", Transformer: tagTransformer("<1>")},
		value.NamedKey{Name: "a", Transformer: tagTransformer("<a>")},
		value.NamedKey{Name: "a:b", Transformer: tagTransformer("<ab>")},
	)
	dataCtx := value.DefaultContext("/registry/secrets/ns/s")

	got, err := l.TransformToStorage(t.Context(), []byte("plain"), dataCtx)
	if err != nil || string(got) != "k2:<2>plain" {
		t.Fatalf("write: got %q, %v; want %q", got, err, "k2:<2>plain")
	}

	tests := []struct {
		name      string
		stored    string
		want      string
		wantStale bool
		wantErr   []string
	}{
		{name: "first key", stored: "k2:<2>x", want: "x"},
		{name: "second key is stale", stored: "k1:<1>x", want: "x", wantStale: true},
		{name: "overlapping names try every match", stored: "a:b:<ab>x", want: "x", wantStale: true},
		{name: "missing key names it", stored: "k9:whatever", wantErr: []string{`"k9"`, "aescbc", `"k2", "k1"`}},
		{name: "failing key names it", stored: "k1:<2>x", wantErr: []string{`aescbc key "k1"`, "not mine"}},
		{name: "no key name", stored: "\x00\x01", wantErr: []string{"no key name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stale, err := l.TransformFromStorage(t.Context(), []byte(tt.stored), dataCtx)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("read %q: no error, want one containing %q", tt.stored, tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("read %q: error %q does not contain %q", tt.stored, err, w)
					}
				}
				return
			}
			if err != nil || string(out) != tt.want || stale != tt.wantStale {
				t.Fatalf("read %q: got %q stale=%v err=%v; want %q stale=%v", tt.stored, out, stale, err, tt.want, tt.wantStale)
			}
		})
	}
}

func TestPrefixTransformers(t *testing.T) {
	p := value.NewPrefixTransformers(errors.New("no match"),
		value.PrefixTransformer{Prefix: []byte("k8s:enc:x:"), Transformer: tagTransformer("<x>")},
		value.PrefixTransformer{Prefix: []byte("k8s:enc:x:"), Transformer: tagTransformer("<y>")},
		value.PrefixTransformer{Prefix: []byte{}, Transformer: value.Identity},
	)
	dataCtx := value.DefaultContext("/k")
	tests := []struct {
		name      string
		stored    string
		want      string
		wantStale bool
		wantErr   bool
	}{
		{name: "first writer", stored: "k8s:enc:x:<x>v", want: "v"},
		{name: "same prefix, second provider", stored: "k8s:enc:x:<y>v", want: "v", wantStale: true},
		{name: "identity last reads plain", stored: "plain", want: "plain", wantStale: true},
		{name: "identity refuses encrypted", stored: "k8s:enc:z:v", wantErr: true},
		{name: "every match failed", stored: "k8s:enc:x:<z>v", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stale, err := p.TransformFromStorage(t.Context(), []byte(tt.stored), dataCtx)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("read %q: got %q, want an error", tt.stored, out)
				}
				return
			}
			if err != nil || string(out) != tt.want || stale != tt.wantStale {
				t.Fatalf("read %q: got %q stale=%v err=%v; want %q stale=%v", tt.stored, out, stale, err, tt.want, tt.wantStale)
			}
		})
	}
}

func TestStoredKeyName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{in: "key1:xyz", want: "key1", ok: true},
		{in: ":xyz"},
		{in: "no colon"},
		{in: "bin\x01:x"},
		{in: strings.Repeat("a", 65) + ":"},
	}
	for _, tt := range tests {
		got, ok := value.StoredKeyName([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("StoredKeyName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
