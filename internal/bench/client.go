package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// counters are the bytes a target's clients read, on the wire and in
// bodies.
type counters struct {
	wire, body atomic.Int64
	gzip       atomic.Bool // a response was compressed since the last reset
	conns      conns
}

// newClientset returns a clientset of its own connection(s) to cfg: a
// custom dialer keeps client-go from sharing transports, and counts the
// bytes read; bodies are counted above the transport's gzip.
func newClientset(base *rest.Config, contentType string, c *counters) (*kubernetes.Clientset, error) {
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = 1e6, 1e6 // the load, not client-go, sets the pace
	cfg.Timeout = 0
	if contentType == "protobuf" {
		cfg.ContentType = runtime.ContentTypeProtobuf
		cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	} else {
		cfg.ContentType = runtime.ContentTypeJSON
		cfg.AcceptContentTypes = runtime.ContentTypeJSON
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc := &countingConn{Conn: conn, n: &c.wire}
		c.conns.add(cc)
		return cc, nil
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingRT{next: rt, c: c} })
	return kubernetes.NewForConfig(cfg)
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingRT struct {
	next http.RoundTripper
	c    *counters
}

func (t *countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.Uncompressed {
		t.c.gzip.Store(true)
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.c.body}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// conns are the connections of a set of clients, closed together when
// the clients are done (client-go keeps idle connections open).
type conns struct {
	mu   sync.Mutex
	open []net.Conn
}

func (c *conns) add(conn net.Conn) {
	c.mu.Lock()
	c.open = append(c.open, conn)
	c.mu.Unlock()
}

func (c *conns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.open {
		conn.Close()
	}
	c.open = nil
}
