//go:build oracle

package diff

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// request is one request sent to both servers.
type request struct {
	// Name names the step in reports ("create", "update without rv").
	Name   string
	Method string
	// Path is the URL path and query; {ns} is the scenario's namespace.
	Path string
	// Body is YAML or JSON, sent as JSON unless ContentType says
	// otherwise (patches); {ns} is replaced as in Path.
	Body        string
	ContentType string
	// Accept, when set, is the Accept header.
	Accept string
	// Header are more request headers.
	Header map[string]string
	// IgnoreBody compares the status only (bodies that differ by design:
	// /version, generated names).
	IgnoreBody bool
	// ManagedFields compares the object's metadata.managedFields too
	// (manager, operation, apiVersion, fieldsType, fieldsV1,
	// subresource; times normalized), which bodies otherwise drop.
	ManagedFields bool
}

// wait is the method of a step that GETs its path until it answers 200
// (a custom resource served once its CRD is established), 10 s at most.
const wait = "WAIT"

func waitFor(ctx context.Context, cfg *rest.Config, ns string, req request) (answer, error) {
	req.Method = http.MethodGet
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err := send(ctx, cfg, ns, req)
		if err != nil || a.Code == http.StatusOK || time.Now().After(deadline) {
			return a, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answer is what a server answered, made comparable.
type answer struct {
	Code int
	// Reason, Message and Causes are those of a Status body.
	Reason, Message string
	Causes          []string
	// Body is the normalized JSON body (nil when not JSON).
	Body any
	// Header are the response headers the cases compare.
	Encoding, ContentType string
	// Warnings are the Warning headers, in order.
	Warnings string
	// ManagedFields are the object's managedFields when the request
	// asks for them.
	ManagedFields any
}

// send sends req to the server of cfg.
func send(ctx context.Context, cfg *rest.Config, ns string, req request) (answer, error) {
	if req.Method == wait {
		return waitFor(ctx, cfg, ns, req)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return answer{}, err
	}
	var body io.Reader
	ctype := req.ContentType
	if req.Body != "" {
		data := []byte(strings.ReplaceAll(req.Body, "{ns}", ns))
		if ctype == "" {
			if data, err = yaml.YAMLToJSON(data); err != nil {
				return answer{}, fmt.Errorf("%s: body: %w", req.Name, err)
			}
			ctype = "application/json"
		}
		body = bytes.NewReader(data)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, cfg.Host+strings.ReplaceAll(req.Path, "{ns}", ns), body)
	if err != nil {
		return answer{}, err
	}
	if ctype != "" {
		hreq.Header.Set("Content-Type", ctype)
	}
	hreq.Header.Set("Accept", "application/json")
	if req.Accept != "" {
		hreq.Header.Set("Accept", req.Accept)
	}
	for k, v := range req.Header {
		hreq.Header.Set(k, v)
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.Header.Get("Content-Encoding") == "gzip" && !req.IgnoreBody {
		// Asked for with Accept-Encoding (Go's transport then leaves it):
		// compared inflated, every member of the stream.
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return answer{}, fmt.Errorf("%s: gzip: %w", req.Name, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return answer{}, fmt.Errorf("%s: gzip: %w", req.Name, err)
		}
	}
	a := answer{Code: resp.StatusCode, Encoding: resp.Header.Get("Content-Encoding"), ContentType: resp.Header.Get("Content-Type"),
		Warnings: strings.Join(resp.Header.Values("Warning"), "\n")}
	var v any
	if json.Unmarshal(data, &v) != nil {
		// A watch: a stream of JSON events, compared as a list.
		if events, ok := jsonStream(data); ok {
			a.Body = normalize(map[string]any{"stream": events}, "")
		}
		return a, nil
	}
	if m, ok := v.(map[string]any); ok && m["kind"] == "Status" {
		a.Reason, _ = m["reason"].(string)
		a.Message, _ = m["message"].(string)
		if d, ok := m["details"].(map[string]any); ok {
			causes, _ := d["causes"].([]any)
			for _, c := range causes {
				c, _ := c.(map[string]any)
				a.Causes = append(a.Causes, fmt.Sprintf("%v %v: %v", c["reason"], c["field"], c["message"]))
			}
		}
	}
	a.Body = normalize(v, "")
	if req.ManagedFields {
		a.ManagedFields = managedFieldsOf(v)
	}
	return a, nil
}

// managedFieldsOf returns an object's managedFields, times normalized.
func managedFieldsOf(v any) any {
	m, _ := v.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	entries, _ := meta["managedFields"].([]any)
	for _, e := range entries {
		if e, ok := e.(map[string]any); ok && e["time"] != nil {
			e["time"] = "<time>"
		}
	}
	return entries
}

// jsonStream decodes a body of several JSON values (a watch's events).
func jsonStream(data []byte) ([]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, len(out) > 0
		}
		if err != nil {
			return nil, false
		}
		out = append(out, v)
	}
}

var (
	timeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
	uidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// dropped are the fields whose values differ between any two servers.
var dropped = map[string]bool{
	"resourceVersion": true, "managedFields": true, "continue": true, "selfLink": true,
}

// normalize replaces what differs by nature (uids, times, resource
// versions, allocated addresses) with placeholders.
func normalize(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if dropped[k] {
				continue
			}
			out[k] = normalize(x, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x, key)
		}
		return out
	case string:
		switch {
		case timeRE.MatchString(v):
			return "<time>"
		case uidRE.MatchString(v):
			return "<uid>"
		case key == "clusterIP" || key == "clusterIPs":
			return "<ip>"
		}
	}
	return v
}

// differences lists how b (regis) differs from a (the oracle): status
// first (code, reason, causes, message), then the body.
func differences(req request, oracle, regis answer) (status, body []string) {
	if oracle.Code != regis.Code {
		status = append(status, fmt.Sprintf("code %d, oracle %d", regis.Code, oracle.Code))
	}
	if oracle.Reason != regis.Reason {
		status = append(status, fmt.Sprintf("reason %q, oracle %q", regis.Reason, oracle.Reason))
	}
	sort.Strings(oracle.Causes)
	sort.Strings(regis.Causes)
	if strings.Join(oracle.Causes, "\n") != strings.Join(regis.Causes, "\n") {
		status = append(status, fmt.Sprintf("causes %q, oracle %q", regis.Causes, oracle.Causes))
	}
	if oracle.Warnings != regis.Warnings {
		body = append(body, fmt.Sprintf("Warning headers %q, oracle %q", regis.Warnings, oracle.Warnings))
	}
	if oracle.Message != regis.Message {
		body = append(body, fmt.Sprintf("message %q, oracle %q", regis.Message, oracle.Message))
	}
	if oracle.Encoding != regis.Encoding {
		status = append(status, fmt.Sprintf("Content-Encoding %q, oracle %q", regis.Encoding, oracle.Encoding))
	}
	if req.ManagedFields {
		body = append(body, jsonDiff(".metadata.managedFields", oracle.ManagedFields, regis.ManagedFields)...)
	}
	if req.IgnoreBody || oracle.Reason != "" {
		return status, body
	}
	body = append(body, jsonDiff("", oracle.Body, regis.Body)...)
	return status, body
}

// jsonDiff lists the paths where b differs from a.
func jsonDiff(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			x, inA := am[k]
			y, inB := bm[k]
			switch {
			case !inA:
				out = append(out, fmt.Sprintf("%s.%s: regis has %s, oracle none", path, k, short(y)))
			case !inB:
				out = append(out, fmt.Sprintf("%s.%s: regis has none, oracle %s", path, k, short(x)))
			default:
				out = append(out, jsonDiff(path+"."+k, x, y)...)
			}
		}
		return out
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok && len(as) == len(bs) {
		var out []string
		for i := range as {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), as[i], bs[i])...)
		}
		return out
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	if !bytes.Equal(x, y) {
		return []string{fmt.Sprintf("%s: regis %s, oracle %s", path, short(b), short(a))}
	}
	return nil
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 160 {
		return string(b[:160]) + "…"
	}
	return string(b)
}

// tally counts the requests and their differences over the whole run.
var tally struct {
	requests, statusDiffs, bodyDiffs, known int
}

// runScenario sends each request, in order, to both servers, in a
// namespace of the scenario's own (created first on both), and reports
// the differences: a status difference fails the test unless it is known
// (known.go), a known one that has gone fails too (remove it), and body
// differences are logged.
func runScenario(t *testing.T, name string, reqs []request) {
	t.Helper()
	ns := "diff-" + name
	setup := request{Name: "namespace", Method: http.MethodPost, Path: "/api/v1/namespaces",
		Body: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns}
	for _, cfg := range []*rest.Config{servers.oracle, servers.regis} {
		if a, err := send(t.Context(), cfg, ns, setup); err != nil || a.Code != http.StatusCreated {
			t.Fatalf("namespace %s on %s: %v %+v", ns, cfg.Host, err, a)
		}
	}
	for _, req := range reqs {
		id := name + "/" + req.Name
		o, err := send(t.Context(), servers.oracle, ns, req)
		if err != nil {
			t.Fatalf("%s: oracle: %v", id, err)
		}
		r, err := send(t.Context(), servers.regis, ns, req)
		if err != nil {
			t.Fatalf("%s: regis: %v", id, err)
		}
		tally.requests++
		status, body := differences(req, o, r)
		reason, isKnown := known[id]
		switch {
		case len(status) > 0 && isKnown:
			tally.known++
			t.Logf("%s %s: known difference (%s): %s", req.Method, id, reason, strings.Join(status, "; "))
		case len(status) > 0:
			tally.statusDiffs++
			t.Errorf("%s %s: %s", req.Method, id, strings.Join(status, "; "))
			record(id, strings.Join(status, "; "))
		case isKnown:
			t.Errorf("%s %s: the known difference (%s) is gone: remove it from known", req.Method, id, reason)
		}
		if len(body) > 0 {
			tally.bodyDiffs++
			t.Logf("%s %s: body: %s", req.Method, id, strings.Join(body, "; "))
		}
	}
}

// record appends a new status difference to the file $ORACLE_RECORD, as
// a line of the known map, for a maintainer to review and paste.
func record(id, diff string) {
	path := os.Getenv("ORACLE_RECORD")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "\t%q: %q,\n", id, diff)
}
