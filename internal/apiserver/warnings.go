package apiserver

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

// The bounds of a response's warnings, upstream's: 4 Ki runes in all;
// past that every warning is cut to 256 runes and those that do not fit
// are dropped.
const (
	warningsTotalRunes = 4 * 1024
	warningItemRunes   = 256
)

// warningRecorder writes a request's warnings as Warning headers, each
// text once, within the bounds above.
type warningRecorder struct {
	h       http.Header
	seen    map[string]bool
	written int
}

func newWarningRecorder(h http.Header) *warningRecorder {
	return &warningRecorder{h: h}
}

func (r *warningRecorder) add(text string) {
	if text == "" || r.seen[text] {
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[text] = true
	n := utf8.RuneCountInString(text)
	if r.written+n > warningsTotalRunes {
		if n > warningItemRunes {
			text, n = string([]rune(text)[:warningItemRunes]), warningItemRunes
		}
		if r.written+n > warningsTotalRunes {
			return
		}
	}
	r.written += n
	r.h.Add("Warning", "299 - "+strconv.Quote(text))
}
