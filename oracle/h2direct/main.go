// Command h2direct measures what net/http's HTTP/2 server costs per watch
// event against a direct HTTP/2 writer (x/net/http2's Framer on the TLS
// connection, written by the event's goroutine, one DATA frame and one
// write per event), with W watchers each on a TLS connection of its own,
// read by Go's x/net HTTP/2 client in the same process; U events of S
// bytes, one at a time (-gap apart), one flush per event per watcher. It
// prints the process's CPU per delivery (server and client); -cpuprofile
// separates them. It is the question of issue 16's 1,000-watcher goal:
// would an HTTP/2 server of our own halve the transport's cost?
//
//	cd oracle && go run ./h2direct -mode nethttp -w 1000 -u 60 -gap 40ms -cpuprofile /tmp/n.prof
//	cd oracle && go run ./h2direct -mode direct -w 1000 -u 60 -gap 40ms -cpuprofile /tmp/d.prof
//
// Session 12 (2 cores): 50.0 vs 39.8 µs per delivery for the process; the
// server's part (net/http: writeFrameAsync, readFrames, serve, runHandler;
// direct: its writer and reader) ~26 vs ~15 µs per delivery. The direct
// writer does no flow control (the client's windows outlast the test) and
// serves one stream per connection: a measurement, not a server.
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

var (
	watchers = flag.Int("w", 200, "watchers")
	updates  = flag.Int("u", 200, "events per watcher")
	size     = flag.Int("s", 3000, "event bytes")
	mode     = flag.String("mode", "nethttp", "nethttp or direct")
	gap      = flag.Duration("gap", 2*time.Millisecond, "time between updates")
	prof     = flag.String("cpuprofile", "", "")
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type hub struct {
	mu   sync.Mutex
	subs []chan []byte
}

func (h *hub) sub() chan []byte {
	c := make(chan []byte, 64)
	h.mu.Lock()
	h.subs = append(h.subs, c)
	h.mu.Unlock()
	return c
}

func main() {
	flag.Parse()
	h := &hub{}
	event := bytes.Repeat([]byte("x"), *size)
	var url string
	var tlsCfg *tls.Config
	switch *mode {
	case "nethttp":
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := h.sub()
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			for e := range c {
				w.Write(e)
				if len(c) == 0 {
					w.(http.Flusher).Flush()
				}
			}
		}))
		srv.EnableHTTP2 = true
		srv.StartTLS()
		url, tlsCfg = srv.URL, srv.Client().Transport.(*http.Transport).TLSClientConfig
	case "direct":
		srv := httptest.NewUnstartedServer(nil)
		srv.EnableHTTP2 = true
		srv.StartTLS() // for its certificate
		cert := srv.TLS.Certificates[0]
		tlsCfg = srv.Client().Transport.(*http.Transport).TLSClientConfig
		srv.Close()
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
		if err != nil {
			panic(err)
		}
		url = "https://" + ln.Addr().String()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go serveDirect(c, h)
			}
		}()
	}
	tr := &http2.Transport{TLSClientConfig: tlsCfg}
	var wg, ready sync.WaitGroup
	for range *watchers {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			t := &http2.Transport{TLSClientConfig: tr.TLSClientConfig} // a connection per watcher
			resp, err := (&http.Client{Transport: t}).Get(url + "/watch")
			if err != nil {
				panic(err)
			}
			ready.Done()
			buf := make([]byte, 32<<10)
			want := *updates * *size
			for got := 0; got < want; {
				n, err := resp.Body.Read(buf)
				got += n
				if err != nil {
					panic(fmt.Sprint(err, got))
				}
			}
			resp.Body.Close()
		}()
	}
	ready.Wait()
	for {
		h.mu.Lock()
		n := len(h.subs)
		h.mu.Unlock()
		if n == *watchers {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if *prof != "" {
		f, _ := os.Create(*prof)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start, c0 := time.Now(), cpu()
	for range *updates {
		h.mu.Lock()
		for _, c := range h.subs {
			c <- event
		}
		h.mu.Unlock()
		time.Sleep(*gap)
	}
	wg.Wait()
	d := *watchers * *updates
	fmt.Printf("%s: %d deliveries in %v, process CPU %.1f µs per delivery (server and client)\n", *mode, d, time.Since(start).Round(time.Millisecond), float64((cpu()-c0).Microseconds())/float64(d))
}

// serveDirect is a minimal HTTP/2 server: it answers the first request
// of the connection with a stream of events written straight to the
// connection by the event loop's goroutine, one DATA frame and one write
// per event; it reads and ignores the client's frames (window updates:
// the client's windows are large enough for the test).
func serveDirect(c net.Conn, h *hub) {
	defer c.Close()
	pre := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, pre); err != nil {
		return
	}
	var wmu sync.Mutex
	fr := http2.NewFramer(c, c)
	wmu.Lock()
	fr.WriteSettings()
	wmu.Unlock()
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				wmu.Lock()
				fr.WriteSettingsAck()
				wmu.Unlock()
			}
		case *http2.HeadersFrame:
			id := f.StreamID
			hbuf.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			wmu.Lock()
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			wmu.Unlock()
			ch := h.sub()
			go func() {
				for e := range ch {
					wmu.Lock()
					err := fr.WriteData(id, false, e)
					wmu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		case *http2.PingFrame:
			if !f.IsAck() {
				wmu.Lock()
				fr.WritePing(true, f.Data)
				wmu.Unlock()
			}
		}
	}
}
