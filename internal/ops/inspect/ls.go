package inspect

import (
	"context"
	"sort"

	"github.com/regis-dev/regis/internal/ops/source"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage/value/identify"
)

// Entry is one key as Ls shows it.
type Entry struct {
	Key         string `json:"key"`
	Resource    string `json:"resource,omitempty"`
	Size        int    `json:"size"`
	Format      string `json:"format"`
	Encryption  string `json:"encryption"`
	KeyID       string `json:"keyID,omitempty"`
	ModRevision int64  `json:"modRevision"`
	Lease       int64  `json:"lease,omitempty"`
	// Error says why an encrypted value could not be read with
	// LsOptions.Decoder's keys.
	Error string `json:"error,omitempty"`
}

// ResourceCount counts the keys of one resource.
type ResourceCount struct {
	Resource string `json:"resource"` // "" for keys of no resource
	Prefix   string `json:"prefix"`
	Count    int64  `json:"count"`
	Bytes    int64  `json:"bytes"`
	Largest  int    `json:"largest"`
	// Encryption counts the keys per provider and key ("aescbc:key1").
	Encryption map[string]int64 `json:"encryption"`
}

// LsSummary is what Ls found in all.
type LsSummary struct {
	Source    string          `json:"source"`
	Revision  int64           `json:"revision"`
	Keys      int64           `json:"keys"`
	Bytes     int64           `json:"bytes"`
	Resources []ResourceCount `json:"resources"`
}

// LsOptions configure Ls.
type LsOptions struct {
	// EtcdPrefix is --etcd-prefix ("/registry").
	EtcdPrefix string
	// Prefix limits the keys to those it starts (NormalizeKey'd); "" is
	// every key under EtcdPrefix.
	Prefix string
	// Progress, if set, is called with the number of keys read so far.
	Progress func(n int64)
	// Decoder, if it has Transformers, decrypts encrypted values to show
	// their format and find those its keys cannot read.
	Decoder *Decoder
}

// Ls calls fn for each key under o.Prefix, in key order, and counts them
// per resource. Values are read from their headers only: no key is needed.
func Ls(ctx context.Context, src source.Source, o LsOptions, fn func(Entry) error) (*LsSummary, error) {
	root := registry.EtcdPathPrefix(o.EtcdPrefix)
	prefix := root
	if o.Prefix != "" {
		prefix = NormalizeKey(o.EtcdPrefix, o.Prefix)
	}
	sum := &LsSummary{Source: src.Describe()}
	counts := map[string]*ResourceCount{}
	err := src.Scan(ctx, prefix, PrefixEnd(prefix), func(kv source.KV) error {
		e := Entry{Key: string(kv.Key), Size: len(kv.Value), Format: FormatOf(kv.Value), ModRevision: kv.ModRevision, Lease: kv.Lease}
		info := identify.Of(kv.Value)
		e.Encryption, e.KeyID = info.String(), info.KeyID
		if e.Format == FormatEncrypted && o.Decoder != nil && o.Decoder.Transformers != nil {
			e.Format, e.Error = o.Decoder.plainFormat(ctx, e.Key, kv.Value)
		}
		rp := ""
		if ki, err := builtin.ParseKey(o.EtcdPrefix, e.Key); err == nil {
			e.Resource = ki.Resource.String()
			rp = root + registry.ResourcePrefix(ki.Resource) + "/"
		}
		rc := counts[e.Resource]
		if rc == nil {
			rc = &ResourceCount{Resource: e.Resource, Prefix: rp, Encryption: map[string]int64{}}
			counts[e.Resource] = rc
		}
		rc.Count++
		rc.Bytes += int64(e.Size)
		rc.Largest = max(rc.Largest, e.Size)
		rc.Encryption[e.Encryption]++
		sum.Keys++
		sum.Bytes += int64(e.Size)
		if o.Progress != nil && sum.Keys%512 == 0 {
			o.Progress(sum.Keys)
		}
		if fn == nil {
			return nil
		}
		return fn(e)
	})
	if err != nil {
		return nil, err
	}
	sum.Revision = src.Revision()
	for _, rc := range counts {
		sum.Resources = append(sum.Resources, *rc)
	}
	sort.Slice(sum.Resources, func(i, j int) bool {
		a, b := sum.Resources[i], sum.Resources[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Resource < b.Resource
	})
	return sum, nil
}
