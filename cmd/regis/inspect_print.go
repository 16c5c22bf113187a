package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/ops/inspect"
	"github.com/regis-dev/regis/internal/ops/progress"
	"github.com/regis-dev/regis/internal/ops/source"
)

// lsPrinter streams the keys of `inspect ls` (a table, or one JSON
// document written as it goes) and then the counts.
type lsPrinter struct {
	w       *bufio.Writer
	out     io.Writer
	json    bool
	summary bool
	n       int
}

func newLsPrinter(w io.Writer, output string, summary bool) *lsPrinter {
	p := &lsPrinter{w: bufio.NewWriterSize(w, 64<<10), out: w, json: output == "json", summary: summary}
	switch {
	case p.json:
		p.w.WriteString(`{"keys": [`)
	case !summary:
		fmt.Fprintf(p.w, "%-10s %9s  %-9s  %-24s  %s\n", "REVISION", "SIZE", "FORMAT", "ENCRYPTION", "KEY")
	}
	return p
}

func (p *lsPrinter) entry(e inspect.Entry) error {
	if p.summary {
		return nil
	}
	if p.json {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if p.n > 0 {
			p.w.WriteByte(',')
		}
		p.w.WriteString("\n  ")
		p.w.Write(b)
	} else {
		enc := e.Encryption
		if e.KeyID != "" {
			enc += " (" + e.KeyID + ")"
		}
		fmt.Fprintf(p.w, "%-10d %9d  %-9s  %-24s  %s\n", e.ModRevision, e.Size, e.Format, enc, e.Key)
		if e.Error != "" {
			fmt.Fprintf(p.w, "%-10s ! %s\n", "", e.Error)
		}
	}
	p.n++
	return nil
}

func (p *lsPrinter) finish(sum *inspect.LsSummary) error {
	if p.json {
		b, err := json.MarshalIndent(sum, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(p.w, "\n], \"summary\": %s}\n", b)
		return p.w.Flush()
	}
	if !p.summary {
		p.w.WriteString("\n")
	}
	if err := p.w.Flush(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tCOUNT\tBYTES\tLARGEST\tENCRYPTION")
	for _, r := range sum.Resources {
		name := r.Resource
		if name == "" {
			name = "(other keys)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, progress.Count(r.Count), progress.Count(r.Bytes), progress.Count(int64(r.Largest)), encCounts(r.Encryption))
	}
	fmt.Fprintf(tw, "TOTAL\t%s\t%s\t\t%s, revision %d\n", progress.Count(sum.Keys), progress.Count(sum.Bytes), sum.Source, sum.Revision)
	return tw.Flush()
}

func encCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%s", k, progress.Count(m[k]))
	}
	return strings.Join(parts, " ")
}

// printObject prints the decoded object of `inspect get`.
func printObject(w io.Writer, output string, kv source.KV, d *inspect.Decoded) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d.Object)
	}
	b, err := yaml.Marshal(d.Object)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# %s\n# modRevision %d, createRevision %d, version %d, %d bytes, %s, %s\n",
		d.Key, kv.ModRevision, kv.CreateRevision, kv.Version, d.Size, d.Format, describeEnc(d))
	_, err = w.Write(b)
	return err
}

func describeEnc(d *inspect.Decoded) string {
	if d.KeyID != "" {
		return d.Encryption + " key_id=" + d.KeyID
	}
	return d.Encryption
}

// rawReport is `inspect get --raw -o json`.
type rawReport struct {
	Key         string            `json:"key"`
	ModRevision int64             `json:"modRevision"`
	Size        int               `json:"size"`
	Encryption  string            `json:"encryption"`
	Format      string            `json:"format"`
	Stored      []byte            `json:"stored"`
	Segments    []inspect.Segment `json:"segments"`
	Plain       []byte            `json:"plain,omitempty"`
	PlainParts  []inspect.Segment `json:"plainSegments,omitempty"`
	Error       string            `json:"error,omitempty"`
}

// printRaw prints the stored bytes with the envelope explained, and, for
// a value decrypted, the plain value's parts too.
func printRaw(w io.Writer, output string, kv source.KV, d *inspect.Decoded) error {
	r := rawReport{Key: d.Key, ModRevision: kv.ModRevision, Size: d.Size, Encryption: describeEnc(d), Format: d.Format,
		Stored: d.Stored, Segments: inspect.ExplainStored(d.Stored), Error: d.Error}
	encrypted := d.Format == inspect.FormatEncrypted || (d.Plain != nil && len(d.Plain) != len(d.Stored))
	if encrypted && d.Plain != nil {
		r.Plain, r.PlainParts = d.Plain, inspect.ExplainPlain(d.Plain)
	}
	if output == "json" {
		return printJSON(w, r)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "key:         %s\nmodRevision: %d\nsize:        %d bytes\nencryption:  %s\nformat:      %s\n",
		r.Key, r.ModRevision, r.Size, r.Encryption, r.Format)
	if r.Error != "" {
		fmt.Fprintf(bw, "note:        %s\n", r.Error)
	}
	dumpSegments(bw, "stored value", r.Stored, r.Segments)
	if r.Plain != nil {
		dumpSegments(bw, "decrypted value", r.Plain, r.PlainParts)
	}
	return bw.Flush()
}

func dumpSegments(w io.Writer, title string, data []byte, segs []inspect.Segment) {
	fmt.Fprintf(w, "\n== %s (%d bytes)\n", title, len(data))
	for _, s := range segs {
		fmt.Fprintf(w, "\n-- [%d, %d) %s", s.Offset, s.Offset+s.Length, s.Name)
		if s.Note != "" {
			fmt.Fprintf(w, ": %s", s.Note)
		}
		fmt.Fprintln(w)
		io.WriteString(w, inspect.Hexdump(data[s.Offset:s.Offset+s.Length], s.Offset))
	}
}

// eventPrinter prints revisions of `inspect history` and `inspect watch`:
// a table with the changes under each line, JSON (one document a line)
// or YAML documents.
type eventPrinter struct {
	w      io.Writer
	output string
	header bool
}

func newEventPrinter(w io.Writer, output string) *eventPrinter {
	return &eventPrinter{w: w, output: output}
}

type eventOut struct {
	Key string `json:"key"`
	inspect.Revision
}

func (p *eventPrinter) revision(key string, r inspect.Revision) error {
	switch p.output {
	case "json":
		b, err := json.Marshal(eventOut{key, r})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(eventOut{key, r})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "---\n%s", b)
		return err
	}
	if !p.header {
		fmt.Fprintf(p.w, "%-10s %-9s %9s  %-9s  %-20s  %s\n", "REVISION", "TYPE", "SIZE", "FORMAT", "ENCRYPTION", "KEY")
		p.header = true
	}
	size, format, enc := "-", "-", "-"
	if r.Value != nil {
		size, format, enc = fmt.Sprint(r.Value.Size), r.Value.Format, describeEnc(r.Value)
	}
	fmt.Fprintf(p.w, "%-10d %-9s %9s  %-9s  %-20s  %s\n", r.Revision, r.Type, size, format, enc, key)
	if r.Value != nil && r.Value.Error != "" {
		fmt.Fprintf(p.w, "           ! %s\n", r.Value.Error)
	}
	for _, c := range r.Changes {
		fmt.Fprintf(p.w, "           %s\n", c)
	}
	return nil
}

func (p *eventPrinter) finish() error { return nil }
