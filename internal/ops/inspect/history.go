package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/regis-dev/regis/internal/ops/source"
)

// Event types of History, as a watch names them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
)

// Revision is one revision of a key, decoded, with what changed since the
// revision before it.
type Revision struct {
	Revision int64    `json:"revision"`
	Type     string   `json:"type"`
	Value    *Decoded `json:"value,omitempty"`
	// Changes lists what changed from the previous revision held
	// ("~spec.replicas: 1 → 3", "+metadata.labels.app: web", "-…").
	Changes []string `json:"changes,omitempty"`
}

// MaxChanges bounds Changes; the rest is counted in its last line.
const MaxChanges = 30

// History calls fn for every revision of key that g still holds, oldest
// first, each decoded by d and compared with the one before.
func History(ctx context.Context, g source.Getter, d Decoder, key string, fn func(Revision) error) error {
	var prev *Decoded
	return g.History(ctx, key, func(e source.Event) error {
		r := Revision{Revision: e.Revision}
		switch {
		case e.Delete:
			r.Type = Deleted
		case prev == nil:
			r.Type = Added
		default:
			r.Type = Modified
		}
		if !e.Delete {
			r.Value = d.Decode(ctx, key, e.KV.Value)
			if prev != nil && prev.Object != nil && r.Value.Object != nil {
				r.Changes = Changes(prev.Object, r.Value.Object)
			}
			prev = r.Value
		} else {
			prev = nil
		}
		return fn(r)
	})
}

// Changes lists the fields that differ between two objects, by path;
// managed fields are summed up in one line.
func Changes(old, cur map[string]any) []string {
	a, b := map[string]string{}, map[string]string{}
	flatten("", old, a)
	flatten("", cur, b)
	var out []string
	managed := false
	note := func(path, s string) {
		if strings.HasPrefix(path, "metadata.managedFields") {
			managed = true
			return
		}
		out = append(out, s)
	}
	for p, v := range b {
		if w, ok := a[p]; !ok {
			note(p, "+"+p+": "+v)
		} else if w != v {
			note(p, "~"+p+": "+w+" → "+v)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			note(p, "-"+p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1:] < out[j][1:] })
	if managed {
		out = append(out, "~metadata.managedFields")
	}
	if len(out) > MaxChanges {
		out = append(out[:MaxChanges-1], fmt.Sprintf("… and %d more", len(out)-MaxChanges+1))
	}
	return out
}

// flatten writes each leaf of v under its dotted path ("a.b[0].c").
func flatten(path string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 && path != "" {
			out[path] = "{}"
		}
		for k, c := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, c, out)
		}
	case []any:
		if len(t) == 0 {
			out[path] = "[]"
		}
		for i, c := range t {
			flatten(fmt.Sprintf("%s[%d]", path, i), c, out)
		}
	default:
		b, _ := json.Marshal(t)
		s := string(b)
		if len(s) > 60 {
			s = s[:57] + "…"
		}
		out[path] = s
	}
}
