package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
)

// A watcher reads its stream through client-go's REST client (its
// transport, authentication and content negotiation) but decodes only
// what it checks, each event's type and resourceVersion: a full decode of
// every pod by every watcher would make the load generator, not the
// server, the bound of the fan-out on a small machine, and would delay
// the receipt times it measures.

// openWatch starts a watch of the namespace's pods from rv.
func openWatch(ctx context.Context, cs *kubernetes.Clientset, ns, rv string) (io.ReadCloser, error) {
	return cs.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").
		VersionedParams(&metav1.ListOptions{Watch: true, ResourceVersion: rv, AllowWatchBookmarks: false}, scheme.ParameterCodec).
		Stream(ctx)
}

// event is what a watcher keeps of one event.
type event struct {
	typ string // one of the watch.EventType constants' values, never allocated
	rv  []byte // the object's resourceVersion, valid until the next event is read
}

// eventReader reads the events of a watch stream in JSON or protobuf.
// next allocates nothing per event: the generator's CPU per received
// event is that of the transport (TLS, HTTP/2) and a scan of the bytes.
type eventReader interface {
	next() (event, error)
}

// readBuffer is the buffer of a watcher's stream: a few events of a pod
// fit, larger ones grow a buffer of their own up to maxFrame.
const readBuffer = 16 << 10

func newEventReader(contentType string, r io.Reader) eventReader {
	br := bufio.NewReaderSize(r, readBuffer)
	if contentType == "protobuf" {
		return &protoEvents{r: br}
	}
	return &jsonEvents{r: br}
}

// eventType returns the constant of a known event type (a switch on
// string(b) does not allocate), or a copy of an unknown one.
func eventType(b []byte) string {
	switch string(b) {
	case "ADDED":
		return "ADDED"
	case "MODIFIED":
		return "MODIFIED"
	case "DELETED":
		return "DELETED"
	case "BOOKMARK":
		return "BOOKMARK"
	case "ERROR":
		return "ERROR"
	}
	return string(b)
}

// maxFrame bounds one event (a pod is a few KiB; the server's limit is
// larger, this only guards the client).
const maxFrame = 16 << 20

// protoEvents reads kube-apiserver's protobuf watch stream: frames of a
// 4-byte big-endian length, each a metav1.WatchEvent (raw, as the
// streaming serializer writes it: type = 1, object = 2, a RawExtension
// whose raw = 1) whose object is in a "k8s\x00" envelope (a
// runtime.Unknown: raw = 2) around the object, whose field 1 is its
// ObjectMeta (resourceVersion = 6). The fields are found in place, not
// decoded: nothing is copied out of the read buffer.
type protoEvents struct {
	r   *bufio.Reader
	buf []byte // a frame larger than r's buffer
}

func (p *protoEvents) next() (event, error) {
	head, err := p.r.Peek(4)
	if err != nil {
		if err == io.EOF && len(head) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return event{}, err
	}
	size := int(binary.BigEndian.Uint32(head))
	if size > maxFrame {
		return event{}, fmt.Errorf("watch frame of %d bytes", size)
	}
	_, _ = p.r.Discard(4)
	var frame []byte
	if size <= p.r.Size() {
		// In the buffer: read in place, released by the next call.
		if frame, err = p.r.Peek(size); err != nil {
			return event{}, unexpected(err)
		}
		_, _ = p.r.Discard(size)
	} else {
		if cap(p.buf) < size {
			p.buf = make([]byte, size)
		}
		frame = p.buf[:size]
		if _, err := io.ReadFull(p.r, frame); err != nil {
			return event{}, unexpected(err)
		}
	}
	return parseProtoEvent(frame)
}

var protoMagic = []byte("k8s\x00")

// parseProtoEvent reads the type and the object's resourceVersion of a
// metav1.WatchEvent.
func parseProtoEvent(frame []byte) (event, error) {
	typ, err := protoField(frame, 1)
	if err != nil {
		return event{}, fmt.Errorf("watch event: %w", err)
	}
	ext, err := protoField(frame, 2)
	if err != nil {
		return event{}, fmt.Errorf("watch event: %w", err)
	}
	raw, err := protoField(ext, 1)
	if err != nil {
		return event{}, fmt.Errorf("watch event object: %w", err)
	}
	if !bytes.HasPrefix(raw, protoMagic) {
		return event{}, errors.New("protobuf watch event object without the k8s envelope")
	}
	obj, err := protoField(raw[len(protoMagic):], 2)
	if err != nil {
		return event{}, fmt.Errorf("envelope: %w", err)
	}
	// Every kind's field 1 is its ObjectMeta (a Status's its ListMeta,
	// whose resourceVersion is field 2: ERROR events are not matched).
	meta, err := protoField(obj, 1)
	if err != nil {
		return event{}, fmt.Errorf("watch event object: %w", err)
	}
	rv, err := protoField(meta, 6)
	if err != nil {
		return event{}, fmt.Errorf("watch event object metadata: %w", err)
	}
	return event{typ: eventType(typ), rv: rv}, nil
}

// protoField returns the bytes of field num (length-delimited) of the
// message b, in place; the last one if repeated, as a decode would keep.
// An absent field is empty.
func protoField(b []byte, num protowire.Number) ([]byte, error) {
	var found []byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return nil, protowire.ParseError(l)
			}
			found, b = v, b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		b = b[l:]
	}
	return found, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseRVBytes is parseRV of a received resourceVersion, without
// allocating.
func parseRVBytes(rv []byte) (uint64, error) {
	if len(rv) == 0 || len(rv) > 20 {
		return parseRV(string(rv))
	}
	var n uint64
	for _, c := range rv {
		d := uint64(c - '0')
		if d > 9 || n > (math.MaxUint64-d)/10 {
			return parseRV(string(rv))
		}
		n = n*10 + d
	}
	return n, nil
}

// parseRV reads a resourceVersion as the etcd revision it is.
func parseRV(rv string) (uint64, error) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q is not a number: deliveries cannot be matched", rv)
	}
	return n, nil
}
