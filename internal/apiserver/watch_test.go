package apiserver_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case e, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event in 5s")
	}
	return watch.Event{}
}

// TestWatchResumesFromBookmark opens a watch-list (initial events, then
// the initial-events-end bookmark), stops it, writes, and resumes from the
// bookmark's resourceVersion: only the later changes arrive.
func TestWatchResumesFromBookmark(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	cms := cs.CoreV1().ConfigMaps("default")
	for i := 0; i < 3; i++ {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("a", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	w, err := cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if e := nextEvent(t, w); e.Type != watch.Added {
			t.Fatalf("initial event %d: %s", i, e.Type)
		}
	}
	e := nextEvent(t, w)
	cm, _ := e.Object.(*corev1.ConfigMap)
	if e.Type != watch.Bookmark || cm == nil || cm.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("want the initial-events-end bookmark, got %s %+v", e.Type, e.Object)
	}
	rv := cm.ResourceVersion
	w.Stop()

	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "a0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if e := nextEvent(t, w); e.Type != watch.Added || e.Object.(*corev1.ConfigMap).Name != "b" {
		t.Fatalf("resumed watch: %s %v", e.Type, e.Object)
	}
	if e := nextEvent(t, w); e.Type != watch.Deleted || e.Object.(*corev1.ConfigMap).Name != "a0" {
		t.Fatalf("resumed watch: %s %v", e.Type, e.Object)
	}
}

// TestGoneAfterCompaction checks the 410s of the etcd store: a watch from
// a compacted resourceVersion ends with an ERROR event, a continue token
// from before the compaction is refused. (A watch cache answers from its
// own history, independent of compaction, as upstream's does.)
func TestGoneAfterCompaction(t *testing.T) {
	s := startUncached(t)
	cs := s.clientset(t)
	ctx := t.Context()
	cms := cs.CoreV1().ConfigMaps("default")
	for i := 0; i < 4; i++ {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("c", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := cms.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil || page.Continue == "" {
		t.Fatalf("first page: %v", err)
	}
	old := page.ResourceVersion
	var last *corev1.ConfigMap
	for _, name := range []string{"later", "last"} {
		if last, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var rev int64
	fmt.Sscan(last.ResourceVersion, &rev)
	if _, err := shared.Client(t).Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}

	_, err = cms.List(ctx, metav1.ListOptions{Limit: 2, Continue: page.Continue})
	expectStatus(t, "continue after compaction", err, 410, metav1.StatusReasonExpired, "")
	if !apierrors.IsResourceExpired(err) {
		t.Errorf("want ResourceExpired, got %v", err)
	}

	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: old})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	e := nextEvent(t, w)
	st, ok := e.Object.(*metav1.Status)
	if e.Type != watch.Error || !ok || st.Code != 410 {
		t.Fatalf("want an ERROR event with 410, got %s %+v", e.Type, e.Object)
	}
}
