package apiserver_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// jsonEvent is what the test reads of a JSON watch event.
type jsonEvent struct {
	Type   string `json:"type"`
	Object struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	} `json:"object"`
}

// A watch-list is gzipped for a client that accepts gzip, as
// kube-apiserver v1.37's WatchListCompression: the initial events and the
// initial-events-end bookmark, then live events, each readable as soon as
// it is flushed (a flush ends a gzip member); a plain watch, or a client
// that does not ask, gets no gzip. client-go's informers sync through it.
func TestWatchListGzip(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	cms := cs.CoreV1().ConfigMaps("default")
	const n = 60
	var last *corev1.ConfigMap
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("g%02d", i)}, Data: map[string]string{"v": strings.Repeat("y", 1000)}}
		var err error
		if last, err = cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *testing.T, query, encoding string) *http.Response {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/namespaces/default/configmaps?"+query, nil)
		req.Header.Set("Accept", "application/json")
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		// A transport of our own: Go's would ask for gzip and inflate.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp
	}
	// events decodes the stream's events onto a channel until it ends.
	events := func(r io.Reader) <-chan jsonEvent {
		ch := make(chan jsonEvent, n+2)
		go func() {
			defer close(ch)
			dec := json.NewDecoder(r)
			for {
				var e jsonEvent
				if dec.Decode(&e) != nil {
					return
				}
				ch <- e
			}
		}()
		return ch
	}
	next := func(t *testing.T, ch <-chan jsonEvent) jsonEvent {
		t.Helper()
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("the watch ended")
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no watch event in 5s")
		}
		return jsonEvent{}
	}
	const watchList = "watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"

	t.Run("watch-list", func(t *testing.T) {
		resp := open(t, watchList, "deflate, gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
		}
		// Read member by member: each flush ends one.
		br := bufio.NewReader(resp.Body)
		var zr *gzip.Reader
		members := 0
		member := func(t *testing.T) []jsonEvent {
			t.Helper()
			var err error
			if zr == nil {
				zr, err = gzip.NewReader(br)
			} else {
				err = zr.Reset(br)
			}
			if err != nil {
				t.Fatal(err)
			}
			zr.Multistream(false)
			data, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			members++
			var got []jsonEvent
			for dec := json.NewDecoder(bytes.NewReader(data)); ; {
				var e jsonEvent
				if err := dec.Decode(&e); err == io.EOF {
					return got
				} else if err != nil {
					t.Fatal(err)
				}
				got = append(got, e)
			}
		}
		var initial []jsonEvent
		for len(initial) <= n {
			initial = append(initial, member(t)...)
		}
		for i, e := range initial[:n] {
			if e.Type != "ADDED" || e.Object.Metadata.Name != fmt.Sprintf("g%02d", i) {
				t.Fatalf("initial event %d: %s %s", i, e.Type, e.Object.Metadata.Name)
			}
		}
		if e := initial[n]; len(initial) != n+1 || e.Type != "BOOKMARK" || e.Object.Metadata.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
			t.Fatalf("want the initial-events-end bookmark last, got %d events, %s %+v", len(initial), e.Type, e.Object.Metadata)
		}
		// Held until the bookmark (or 50 ms without an event: a loaded
		// machine may split them), not flushed one by one.
		if members > n/4 {
			t.Errorf("the initial events came in %d gzip members", members)
		}
		// Live events, each flushed in a member of its own.
		for i := range 3 {
			name := fmt.Sprintf("live%d", i)
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := member(t); len(got) != 1 || got[0].Type != "ADDED" || got[0].Object.Metadata.Name != name {
				t.Fatalf("live event: %+v", got)
			}
		}
	})
	t.Run("not asked", func(t *testing.T) {
		resp := open(t, watchList, "")
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Fatalf("Content-Encoding %q", ce)
		}
		ch := events(resp.Body)
		for i := range n {
			if e := next(t, ch); e.Type != "ADDED" {
				t.Fatalf("initial event %d: %s", i, e.Type)
			}
		}
	})
	t.Run("plain watch", func(t *testing.T) {
		resp := open(t, "watch=true&resourceVersion="+last.ResourceVersion, "gzip")
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Fatalf("Content-Encoding %q", ce)
		}
	})
	t.Run("client-go", func(t *testing.T) {
		w, err := cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: ptr(true), AllowWatchBookmarks: true,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		for i := range n + 3 {
			if e := nextEvent(t, w); e.Type != "ADDED" {
				t.Fatalf("initial event %d: %s", i, e.Type)
			}
		}
		if e := nextEvent(t, w); e.Type != "BOOKMARK" {
			t.Fatalf("want the bookmark, got %s", e.Type)
		}
		// A live event, in a member of its own, reaches client-go's
		// gzip reader (which reads on into the next member) at its flush.
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "live-client-go"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, w); e.Type != "ADDED" || e.Object.(*corev1.ConfigMap).Name != "live-client-go" {
			t.Fatalf("live event: %s %v", e.Type, e.Object)
		}
	})
}
