package apiserver

import (
	"net/http"
	"unicode/utf8"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// The bounds of a response's warnings, upstream's: 4 Ki runes in all;
// once past that, every warning is cut to 256 runes.
const (
	warningsTotalRunes = 4 * 1024
	warningItemRunes   = 256
)

// warningRecorder writes a request's warnings as Warning headers, each
// text once, as upstream's warning filter does: when the total passes the
// bound, the headers are written again with every warning cut, and
// warnings go on being added cut until the bound is reached.
type warningRecorder struct {
	h          http.Header
	seen       map[string]bool
	ordered    []string
	written    int
	truncating bool
}

func newWarningRecorder(h http.Header) *warningRecorder {
	return &warningRecorder{h: h}
}

func (r *warningRecorder) add(text string) {
	if text == "" || r.written >= warningsTotalRunes && r.truncating || r.seen[text] {
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[text] = true
	r.ordered = append(r.ordered, text)
	if r.truncating {
		text = cutWarning(text)
	}
	n := utf8.RuneCountInString(text)
	header, err := utilnet.NewWarningHeader(299, "-", text)
	if err != nil {
		return // not valid UTF-8, or control characters: dropped, as upstream
	}
	if r.written+n <= warningsTotalRunes || r.truncating {
		r.written += n
		r.h.Add("Warning", header)
		return
	}
	r.truncating, r.written = true, 0
	r.h.Del("Warning")
	for _, t := range r.ordered {
		t = cutWarning(t)
		if header, err := utilnet.NewWarningHeader(299, "-", t); err == nil {
			r.written += utf8.RuneCountInString(t)
			r.h.Add("Warning", header)
		}
	}
}

func cutWarning(text string) string {
	if utf8.RuneCountInString(text) > warningItemRunes {
		return string([]rune(text)[:warningItemRunes])
	}
	return text
}
