package apiserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkWatchFanoutTLS: W watchers, each on an HTTP/2 TLS connection of
// its own (as separate kubelets or informers), read the server's frames
// without decoding them; each iteration creates a burst of pods at once
// (through the storage, so that no create request is measured) and waits
// until every watcher has got every event. Reported per delivery (one
// event to one watcher): the process's CPU (server, its watch cache and
// etcd, and the readers' TLS and HTTP/2), and the latency from the
// create's acknowledgement (p50, p99; negative counts as 0) and from its
// send. Every event must reach every watcher exactly once. Run with:
//
//	go test ./internal/apiserver -run '^$' -bench WatchFanoutTLS -benchtime 200x -count 5
func BenchmarkWatchFanoutTLS(b *testing.B) {
	const watchers = 200
	e := newBenchEnv(b)
	hs := httptest.NewUnstartedServer(e.s.api)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	b.Cleanup(hs.Close)
	base := hs.Client().Transport.(*http.Transport)
	for _, format := range []string{"protobuf", "json"} {
		for _, burst := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/burst=%d", format, burst), func(b *testing.B) {
				runFanout(b, e, hs.URL, base, format, watchers, burst)
			})
		}
	}
}

// fanoutReader is one watcher: the sequence numbers of the events it got,
// with their arrival times.
type fanoutReader struct {
	seqs  []int
	times []int64
}

func runFanout(b *testing.B, e *benchEnv, url string, base *http.Transport, format string, watchers, burst int) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	prefix := fmt.Sprintf("fan%d-", time.Now().UnixNano()%1e6)
	l, err := e.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	accept := map[string]string{"protobuf": "application/vnd.kubernetes.protobuf", "json": "application/json"}[format]
	u := url + "/api/v1/namespaces/default/pods?watch=1&resourceVersion=" + l.ResourceVersion
	var remaining atomic.Int64
	done := make(chan struct{}, 1)
	readers := make([]*fanoutReader, watchers)
	var wg sync.WaitGroup
	for i := range readers {
		tr := base.Clone() // a connection of its own
		b.Cleanup(tr.CloseIdleConnections)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Accept", accept)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			b.Fatalf("watch: %s %s", resp.Status, resp.Proto)
		}
		r := &fanoutReader{}
		readers[i] = r
		wg.Go(func() {
			defer resp.Body.Close()
			next := fanoutFrames(resp.Body, format)
			for {
				f, err := next()
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				j := bytes.Index(f, []byte(prefix))
				if j < 0 {
					continue // not one of this run's pods
				}
				var seq int
				if _, err := fmt.Sscanf(string(f[j+len(prefix):j+len(prefix)+7]), "%07d", &seq); err != nil {
					b.Error(err)
					return
				}
				r.seqs = append(r.seqs, seq)
				r.times = append(r.times, now)
				if remaining.Add(-1) == 0 {
					done <- struct{}{}
				}
			}
		})
	}
	var sent, acked []int64
	batch := make([]int64, burst)
	var cw sync.WaitGroup
	b.ResetTimer()
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		remaining.Store(int64(watchers * burst))
		first := len(sent)
		for k := range burst {
			seq := first + k
			sent = append(sent, time.Now().UnixNano())
			cw.Go(func() {
				p := benchPod("default", fmt.Sprintf("%s%07d", prefix, seq))
				if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, nil, 0); err != nil {
					b.Error(err)
				}
				batch[k] = time.Now().UnixNano()
			})
		}
		cw.Wait()
		acked = append(acked, batch...)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("%d deliveries missing", remaining.Load())
		}
	}
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.StopTimer()
	events := len(sent)
	time.Sleep(100 * time.Millisecond) // let a duplicate show
	cancel()
	wg.Wait()

	var fromAck, fromSend []float64
	for _, r := range readers {
		if len(r.seqs) != events {
			b.Fatalf("a watcher got %d events of %d", len(r.seqs), events)
		}
		seen := make([]bool, events)
		for i, seq := range r.seqs {
			if seq >= events || seen[seq] {
				b.Fatalf("event %d delivered twice or unknown", seq)
			}
			seen[seq] = true
			fromAck = append(fromAck, max(0, float64(r.times[i]-acked[seq]))/1e6)
			fromSend = append(fromSend, float64(r.times[i]-sent[seq])/1e6)
		}
	}
	cpu := time.Duration(syscall.TimevalToNsec(after.Utime) + syscall.TimevalToNsec(after.Stime) -
		syscall.TimevalToNsec(before.Utime) - syscall.TimevalToNsec(before.Stime))
	deliveries := float64(events * watchers)
	b.ReportMetric(float64(cpu.Microseconds())/deliveries, "cpu-µs/delivery")
	b.ReportMetric(percentile(fromAck, 0.5), "p50-ms")
	b.ReportMetric(percentile(fromAck, 0.99), "p99-ms")
	b.ReportMetric(percentile(fromSend, 0.5), "p50-send-ms")
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(len(v)-1, int(p*float64(len(v))))]
}

// fanoutFrames returns a reader of a watch response's frames, undecoded:
// length-prefixed for protobuf, lines for JSON.
func fanoutFrames(body io.Reader, format string) func() ([]byte, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	if format == "json" {
		return func() ([]byte, error) { return br.ReadSlice('\n') }
	}
	var buf []byte
	return func() ([]byte, error) {
		var n [4]byte
		if _, err := io.ReadFull(br, n[:]); err != nil {
			return nil, err
		}
		size := binary.BigEndian.Uint32(n[:])
		if size > 16<<20 {
			return nil, fmt.Errorf("frame of %d bytes", size)
		}
		buf = slices.Grow(buf[:0], int(size))[:size]
		_, err := io.ReadFull(br, buf)
		return buf, err
	}
}
