package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// jsonEvents reads a JSON watch stream: one object per event,
// {"type":…,"object":{…,"metadata":{…,"resourceVersion":…}}}, newline
// separated or not. An event already buffered is walked in place, once:
// its three members kept, every other value skipped (strings found with
// bytes.IndexByte), nothing decoded or copied. An event split across
// reads of the stream is gathered first.
type jsonEvents struct {
	r   *bufio.Reader
	buf []byte // an event split across reads (or larger than r's buffer)
}

var errTruncatedJSON = errors.New("truncated JSON watch event")

func (j *jsonEvents) next() (event, error) {
	// Whitespace between events, then at least a byte.
	for {
		c, err := j.r.ReadByte()
		if err != nil {
			return event{}, err
		}
		if !isSpace(c) {
			if c != '{' {
				return event{}, fmt.Errorf("JSON watch event starting with %q, not an object", c)
			}
			_ = j.r.UnreadByte()
			break
		}
	}
	var ev event
	avail, _ := j.r.Peek(j.r.Buffered())
	s := jsonScan{b: avail}
	err := s.walk(levelEvent, &ev)
	if err == nil {
		_, _ = j.r.Discard(s.i)
		return ev, nil
	}
	if err != errTruncatedJSON {
		return event{}, err
	}
	v, err := j.gather()
	if err != nil {
		return event{}, err
	}
	ev = event{}
	s = jsonScan{b: v}
	if err := s.walk(levelEvent, &ev); err != nil {
		return event{}, err
	}
	return ev, nil
}

// gather reads the event at the reader into buf, up to its end.
func (j *jsonEvents) gather() ([]byte, error) {
	j.buf = j.buf[:0]
	var scan valueEnd
	for {
		if _, err := j.r.Peek(1); err != nil {
			return nil, unexpected(err)
		}
		avail, _ := j.r.Peek(j.r.Buffered())
		end := scan.feed(avail)
		if n := len(j.buf) + max(end, len(avail)); n > maxFrame {
			return nil, fmt.Errorf("JSON watch event over %d bytes", maxFrame)
		}
		if end >= 0 {
			j.buf = append(j.buf, avail[:end]...)
			_, _ = j.r.Discard(end)
			return j.buf, nil
		}
		j.buf = append(j.buf, avail...)
		_, _ = j.r.Discard(len(avail))
	}
}

// valueEnd finds the end of a JSON object or array fed in pieces.
type valueEnd struct {
	depth      int
	inStr, esc bool
}

// feed scans b, the bytes after those fed before, and returns the
// length of b up to the end of the value, or -1.
func (v *valueEnd) feed(b []byte) int {
	i := 0
	for i < len(b) {
		if v.esc {
			v.esc = false
			i++
			continue
		}
		if v.inStr {
			n := stringEnd(b[i:])
			switch {
			case n < 0:
				v.esc = b[len(b)-1] == '\\' && trailingBackslashes(b[i:])%2 == 1
				return -1
			default:
				v.inStr = false
				i += n + 1
			}
			continue
		}
		switch b[i] {
		case '"':
			v.inStr = true
		case '{', '[':
			v.depth++
		case '}', ']':
			v.depth--
			if v.depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

// stringEnd returns the index of the quote that ends the string whose
// contents start b, or -1.
func stringEnd(b []byte) int {
	i := 0
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		bs := bytes.IndexByte(b[i:i+q], '\\')
		if bs < 0 {
			return i + q
		}
		i += bs + 2 // the escape and the character it escapes
		if i > len(b) {
			return -1
		}
	}
}

// trailingBackslashes counts the backslashes that end b.
func trailingBackslashes(b []byte) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	return n
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonScan walks one complete JSON value.
type jsonScan struct {
	b []byte
	i int
}

// The levels of the walk: the event, its object, the object's metadata.
const (
	levelEvent = iota
	levelObject
	levelMeta
)

// walk reads the object at s.i, keeping the event's type (levelEvent)
// and the object's metadata.resourceVersion (levelMeta) and skipping
// every other member.
func (s *jsonScan) walk(level int, ev *event) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.ws(); s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		key, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if err := s.expect(':'); err != nil {
			return err
		}
		s.ws()
		switch {
		case level == levelEvent && string(key) == "type":
			var typ []byte
			if typ, err = s.str(); err == nil {
				ev.typ = eventType(typ)
			}
		case level == levelEvent && string(key) == "object" && s.peek() == '{':
			err = s.walk(levelObject, ev)
		case level == levelObject && string(key) == "metadata" && s.peek() == '{':
			err = s.walk(levelMeta, ev)
		case level == levelMeta && string(key) == "resourceVersion":
			ev.rv, err = s.str()
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		case 0:
			if s.i >= len(s.b) {
				return errTruncatedJSON
			}
			fallthrough
		default:
			return fmt.Errorf("JSON watch event: unexpected %q at offset %d", s.peek(), s.i)
		}
	}
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// peek is the byte at s.i, 0 at the end.
func (s *jsonScan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScan) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return errTruncatedJSON
		}
		return fmt.Errorf("JSON watch event: %q expected at offset %d, got %q", c, s.i, s.b[s.i])
	}
	s.i++
	return nil
}

// str reads a string, in place unless it has escapes.
func (s *jsonScan) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	start := s.i
	n := stringEnd(s.b[start:])
	if n < 0 {
		return nil, errTruncatedJSON
	}
	s.i = start + n + 1
	raw := s.b[start : start+n]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	var out string
	if err := json.Unmarshal(s.b[start-1:s.i], &out); err != nil {
		return nil, fmt.Errorf("JSON watch event: %w", err)
	}
	return []byte(out), nil
}

// skip steps over one value of any kind.
func (s *jsonScan) skip() error {
	switch c := s.peek(); {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{' || c == '[':
		var v valueEnd
		end := v.feed(s.b[s.i:])
		if end < 0 {
			return errTruncatedJSON
		}
		s.i += end
		return nil
	case c == 0:
		return errTruncatedJSON
	}
	// A number, true, false or null.
	start := s.i
	for s.i < len(s.b) && !isSpace(s.b[s.i]) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' {
		s.i++
	}
	if s.i == start {
		return fmt.Errorf("JSON watch event: unexpected %q at offset %d", s.b[s.i], s.i)
	}
	return nil
}
