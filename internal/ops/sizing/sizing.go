// Package sizing measures what an etcd holds for a cluster (objects and
// bytes per resource, at the newest revision and over every revision
// held, the largest objects, the database's size and fragmentation,
// revision and compaction) and, with the API server's metrics, watches
// and request rates; then recommends the etcd tier of the seed's table.
package sizing

import (
	"context"
	"fmt"
	"sort"

	"github.com/regis-dev/regis/internal/ops/source"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// Sizes and limits the warnings use.
const (
	DefaultQuota     = 2 << 30 // etcd's default --quota-backend-bytes
	SuggestedMaxDB   = 8 << 30 // etcd's suggested largest --quota-backend-bytes
	LargeObjectBytes = 1 << 20
	QuotaWarnShare   = 0.8 // warn past this share of the quota
	DefaultTop       = 20
)

// Options configure Measure.
type Options struct {
	// EtcdPrefix is --etcd-prefix ("/registry").
	EtcdPrefix string
	// Top is how many of the largest objects to list (DefaultTop when 0).
	Top int
	// History counts every revision held too (a watch replay live, a
	// scan of the file offline); the source must be a RevisionSource.
	History bool
	// Progress, if set, is called with the keys and revisions read.
	Progress func(n int64)
}

// ResourceSize is what one resource takes.
type ResourceSize struct {
	Resource string `json:"resource"`
	Objects  int64  `json:"objects"`
	Bytes    int64  `json:"bytes"`
	// Revisions and RevisionBytes count every revision held (puts and
	// deletes), with Options.History.
	Revisions     int64 `json:"revisions,omitempty"`
	RevisionBytes int64 `json:"revisionBytes,omitempty"`
	// From the server's metrics: watches open, reads and writes a second.
	Watches    float64 `json:"watches,omitempty"`
	ReadsPerS  float64 `json:"readsPerSecond,omitempty"`
	WritesPerS float64 `json:"writesPerSecond,omitempty"`
}

// Object is one object's key and size.
type Object struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
}

// Report is what Measure found and recommends.
type Report struct {
	Source          string         `json:"source"`
	Revision        int64          `json:"revision"`
	CompactRevision int64          `json:"compactRevision,omitempty"`
	Objects         int64          `json:"objects"`
	Bytes           int64          `json:"bytes"`
	Revisions       int64          `json:"revisions,omitempty"`
	RevisionBytes   int64          `json:"revisionBytes,omitempty"`
	Nodes           int64          `json:"nodes"`
	Pods            int64          `json:"pods"`
	Resources       []ResourceSize `json:"resources"`
	Largest         []Object       `json:"largest"`
	// DB is the database's size per member (one for a file).
	DB []DB `json:"db"`
	// QuotaBytes is the backend quota the warnings use.
	QuotaBytes int64 `json:"quotaBytes"`
	// Metrics says whether the server's metrics were read, and from where.
	Metrics        string         `json:"metrics,omitempty"`
	Recommendation Recommendation `json:"recommendation"`
	Warnings       []string       `json:"warnings,omitempty"`
}

// DB is one database's size.
type DB struct {
	Member      string  `json:"member"`
	Size        int64   `json:"size"`
	InUse       int64   `json:"inUse"`
	Fragmented  float64 `json:"fragmented"` // share of Size that is free
	Leader      bool    `json:"leader,omitempty"`
	Unreachable string  `json:"unreachable,omitempty"`
}

// Measure scans src and fills a report; the caller adds DB and metrics
// (AddDB, AddMetrics) and then calls Finish.
func Measure(ctx context.Context, src source.Source, o Options) (*Report, error) {
	if o.Top <= 0 {
		o.Top = DefaultTop
	}
	root := registry.EtcdPathPrefix(o.EtcdPrefix)
	rep := &Report{Source: src.Describe()}
	byRes := map[string]*ResourceSize{}
	res := func(key string) *ResourceSize {
		name := ""
		if ki, err := builtin.ParseKey(o.EtcdPrefix, key); err == nil {
			name = ki.Resource.String()
		}
		r := byRes[name]
		if r == nil {
			r = &ResourceSize{Resource: name}
			byRes[name] = r
		}
		return r
	}
	top := &largest{n: o.Top}
	var n int64
	tick := func() {
		if n++; o.Progress != nil && n%512 == 0 {
			o.Progress(n)
		}
	}
	if err := src.Scan(ctx, root, prefixEnd(root), func(kv source.KV) error {
		tick()
		r := res(string(kv.Key))
		r.Objects++
		r.Bytes += int64(len(kv.Value))
		top.add(Object{Key: string(kv.Key), Size: len(kv.Value)})
		return nil
	}); err != nil {
		return nil, err
	}
	rep.Revision = src.Revision()
	if o.History {
		rs, ok := src.(source.RevisionSource)
		if !ok {
			return nil, fmt.Errorf("%s holds no past revisions to count", src.Describe())
		}
		if err := rs.Revisions(ctx, root, prefixEnd(root), func(e source.Event) error {
			tick()
			r := res(string(e.KV.Key))
			r.Revisions++
			r.RevisionBytes += int64(len(e.KV.Value))
			return nil
		}); err != nil {
			return nil, err
		}
		if l, ok := src.(interface{ CompactRevision() int64 }); ok {
			rep.CompactRevision = l.CompactRevision()
		}
	}
	for _, r := range byRes {
		rep.Resources = append(rep.Resources, *r)
		rep.Objects += r.Objects
		rep.Bytes += r.Bytes
		rep.Revisions += r.Revisions
		rep.RevisionBytes += r.RevisionBytes
		switch r.Resource {
		case "nodes":
			rep.Nodes = r.Objects
		case "pods":
			rep.Pods = r.Objects
		}
	}
	sort.Slice(rep.Resources, func(i, j int) bool {
		a, b := rep.Resources[i], rep.Resources[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		return a.Resource < b.Resource
	})
	rep.Largest = top.sorted()
	return rep, nil
}

// largest keeps the n largest objects.
type largest struct {
	n    int
	objs []Object
}

func (l *largest) add(o Object) {
	if len(l.objs) < l.n {
		l.objs = append(l.objs, o)
		return
	}
	mi := 0
	for i, x := range l.objs {
		if x.Size < l.objs[mi].Size {
			mi = i
		}
	}
	if o.Size > l.objs[mi].Size {
		l.objs[mi] = o
	}
}

func (l *largest) sorted() []Object {
	sort.Slice(l.objs, func(i, j int) bool { return l.objs[i].Size > l.objs[j].Size })
	return l.objs
}

func prefixEnd(p string) string {
	b := []byte(p)
	b[len(b)-1]++
	return string(b)
}
