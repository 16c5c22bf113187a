package sizing

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Sample is one line of the Prometheus text format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// ParseMetrics reads the samples of the metrics named in names from the
// Prometheus text format (what /metrics serves); other lines are skipped.
func ParseMetrics(r io.Reader, names ...string) ([]Sample, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i > 0 {
			name, rest = line[:i], line[i:]
		}
		if !want[name] {
			continue
		}
		s := Sample{Name: name, Labels: map[string]string{}}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				continue
			}
			parseLabels(rest[1:end], s.Labels)
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		s.Value = v
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseLabels(s string, into map[string]string) {
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return
		}
		key := strings.TrimSpace(strings.TrimPrefix(s[:eq], ","))
		var val strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				if s[i] == 'n' {
					val.WriteByte('\n')
					continue
				}
			}
			val.WriteByte(s[i])
		}
		into[key] = val.String()
		s = strings.TrimPrefix(s[min(i+1, len(s)):], ",")
	}
}

// Rate is one resource's load from the server's metrics.
type Rate struct {
	Watches    float64
	ReadsPerS  float64
	WritesPerS float64
}

// Metric names Rates reads (kube-apiserver's).
const (
	MetricRequests    = "apiserver_request_total"
	MetricLongRunning = "apiserver_longrunning_requests"
)

var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true, "CREATE": true, "UPDATE": true}

// Rates turns two scrapes, seconds apart, into watches open (from the
// second) and requests a second per resource ("pods", "deployments.apps").
func Rates(first, second []Sample, seconds float64) map[string]Rate {
	out := map[string]Rate{}
	resOf := func(s Sample) string {
		r := s.Labels["resource"]
		if g := s.Labels["group"]; g != "" && r != "" {
			r += "." + g
		}
		return r
	}
	before := map[string]float64{}
	for _, s := range first {
		if s.Name == MetricRequests {
			before[requestKey(s)] += s.Value
		}
	}
	for _, s := range second {
		res := resOf(s)
		if res == "" || s.Labels["subresource"] != "" {
			continue
		}
		r := out[res]
		switch s.Name {
		case MetricLongRunning:
			if strings.EqualFold(s.Labels["verb"], "WATCH") {
				r.Watches += s.Value
			}
		case MetricRequests:
			if seconds <= 0 {
				continue
			}
			d := (s.Value - before[requestKey(s)]) / seconds
			before[requestKey(s)] = s.Value // a key counted once
			// Upstream's verbs are upper case (POST, LIST, WATCH); any case is taken.
			if verb := strings.ToUpper(s.Labels["verb"]); writeVerbs[verb] {
				r.WritesPerS += d
			} else if verb != "WATCH" {
				r.ReadsPerS += d
			}
		}
		out[res] = r
	}
	return out
}

func requestKey(s Sample) string {
	return s.Labels["verb"] + "|" + s.Labels["group"] + "|" + s.Labels["resource"] + "|" + s.Labels["subresource"] + "|" + s.Labels["scope"] + "|" + s.Labels["code"] + "|" + s.Labels["dry_run"] + "|" + s.Labels["version"] + "|" + s.Labels["component"]
}
