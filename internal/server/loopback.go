package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/authz"
)

// loopbackUser is kube-apiserver's loopback identity: system:apiserver,
// a member of system:masters, with a uid of its own per start.
func loopbackUser() *authz.User {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return &authz.User{Name: "system:apiserver", UID: fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]),
		Groups: []string{authz.SystemPrivilegedGroup}}
}

// memListener is a net.Listener of in-process connections (net.Pipe).
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "loopback" }

// serveLoopback serves api in process as the loopback user until ctx
// ends (in a goroutine of wg) and returns a client configuration for it.
// Its user agent is kube-apiserver's, so that its writes are managed by
// "kube-apiserver", as upstream's loopback client's.
func serveLoopback(ctx context.Context, api http.Handler, wg *sync.WaitGroup, log *slog.Logger) *rest.Config {
	l := newMemListener()
	hs := &http.Server{Handler: apiserver.LoopbackHandler(api, loopbackUser()),
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	wg.Go(func() {
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			log.Warn("loopback server", "err", err)
		}
	})
	wg.Go(func() {
		<-ctx.Done()
		_ = hs.Close() // ends the loopback's requests and watches
		_ = l.Close()
	})
	v := Version()
	return &rest.Config{
		Host:      "http://loopback",
		UserAgent: fmt.Sprintf("kube-apiserver/%s (%s/%s) kubernetes/%s", v.GitVersion, runtime.GOOS, runtime.GOARCH, shortCommit(v.GitCommit)),
		Transport: &http.Transport{DialContext: l.dial, MaxIdleConnsPerHost: 8},
		QPS:       -1,
	}
}

func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	if c == "" {
		return "unknown"
	}
	return c
}
