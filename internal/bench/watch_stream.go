package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	typ string
	rv  string
}

// eventReader reads the events of a watch stream in JSON or protobuf.
type eventReader interface {
	next() (event, error)
}

func newEventReader(contentType string, r io.Reader) eventReader {
	if contentType == "protobuf" {
		return &protoEvents{r: bufio.NewReaderSize(r, 64<<10)}
	}
	return &jsonEvents{d: json.NewDecoder(r)}
}

type jsonEvents struct{ d *json.Decoder }

func (j *jsonEvents) next() (event, error) {
	var e struct {
		Type   string `json:"type"`
		Object struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		} `json:"object"`
	}
	if err := j.d.Decode(&e); err != nil {
		return event{}, err
	}
	return event{typ: e.Type, rv: e.Object.Metadata.ResourceVersion}, nil
}

// protoEvents reads kube-apiserver's protobuf watch stream: frames of a
// 4-byte big-endian length, each a metav1.WatchEvent (raw, as the
// streaming serializer writes it) whose object is in a "k8s\x00"
// envelope (runtime.Unknown).
type protoEvents struct {
	r   *bufio.Reader
	buf []byte
}

// maxFrame bounds one frame (a pod is a few KiB; the server's limit is
// larger, this only guards the client).
const maxFrame = 16 << 20

var protoMagic = []byte("k8s\x00")

func (p *protoEvents) next() (event, error) {
	var n [4]byte
	if _, err := io.ReadFull(p.r, n[:]); err != nil {
		return event{}, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return event{}, fmt.Errorf("watch frame of %d bytes", size)
	}
	if cap(p.buf) < int(size) {
		p.buf = make([]byte, size)
	}
	frame := p.buf[:size]
	if _, err := io.ReadFull(p.r, frame); err != nil {
		return event{}, err
	}
	var we metav1.WatchEvent
	if err := we.Unmarshal(frame); err != nil {
		return event{}, fmt.Errorf("watch event: %w", err)
	}
	obj, err := unenvelope(we.Object.Raw)
	if err != nil {
		return event{}, err
	}
	// A pod's field 1 is its metadata, as PartialObjectMetadata's: the
	// rest is skipped, not decoded.
	var meta metav1.PartialObjectMetadata
	if err := meta.Unmarshal(obj); err != nil {
		return event{}, fmt.Errorf("watch event object: %w", err)
	}
	return event{typ: we.Type, rv: meta.ResourceVersion}, nil
}

// unenvelope returns the raw bytes of a "k8s\x00" runtime.Unknown.
func unenvelope(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, protoMagic) {
		return nil, errors.New("protobuf watch event object without the k8s envelope")
	}
	var u runtime.Unknown
	if err := u.Unmarshal(b[len(protoMagic):]); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return u.Raw, nil
}

// parseRV reads a resourceVersion as the etcd revision it is.
func parseRV(rv string) (uint64, error) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q is not a number: deliveries cannot be matched", rv)
	}
	return n, nil
}
