package apiserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// convCRD has v1 (spec.host) and v2 (spec.hostname, stored), converted
// by a webhook at %s with the CA bundle %s.
const convCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: convs.conv.example.com}
spec:
  group: conv.example.com
  scope: Namespaced
  names: {plural: convs, singular: conv, kind: Conv}
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1, v1beta1]
      clientConfig: {url: %q, caBundle: %s}
  versions:
  - name: v1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {host: {type: string}, port: {type: integer, default: 80}}}
  - name: v2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {hostname: {type: string}, port: {type: integer}}}
`

var (
	convsV1 = schema.GroupVersionResource{Group: "conv.example.com", Version: "v1", Resource: "convs"}
	convsV2 = schema.GroupVersionResource{Group: "conv.example.com", Version: "v2", Resource: "convs"}
)

func conv(version, name, field, host string) string {
	return fmt.Sprintf(`{"apiVersion":"conv.example.com/%s","kind":"Conv","metadata":{"name":%q,"labels":{"app":"c"}},"spec":{%q:%q}}`,
		version, name, field, host)
}

// TestConversionWebhook serves a CRD whose versions a webhook served by
// the test converts: created through either version, read, listed and
// watched through both, stored at the storage version; a failing or
// unreachable webhook gives upstream's 500.
func TestConversionWebhook(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	hook := newConversionWebhook(t)
	applyCRDFile(t, s, k, "convs.conv.example.com",
		fmt.Sprintf(convCRD, hook.url(), base64.StdEncoding.EncodeToString(hook.caBundle)), convsV2)
	waitEstablished(t, s, "convs.conv.example.com", convsV1)
	k.ok("", "create", "namespace", "conv")
	ctx := context.Background()
	dc := dyn(t, s)
	v1, v2 := dc.Resource(convsV1).Namespace("conv"), dc.Resource(convsV2).Namespace("conv")

	// Watches of both versions opened before the writes.
	w1, err := v1.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Stop()
	w2, err := v2.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()

	created, err := v1.Create(ctx, crObj(t, conv("v1", "a", "host", "a.example.com")), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := unstructured.NestedString(created.Object, "spec", "host"); h != "a.example.com" || created.GetAPIVersion() != "conv.example.com/v1" {
		t.Errorf("created through v1: %v", created.Object)
	}
	if p, _, _ := unstructured.NestedInt64(created.Object, "spec", "port"); p != 80 {
		t.Errorf("created through v1 without v1's default port: %v", created.Object["spec"])
	}
	// Stored as v2, renamed by the webhook.
	var stored map[string]any
	if err := json.Unmarshal(etcdValue(t, etcdPrefix(t)+"/conv.example.com/convs/conv/a"), &stored); err != nil {
		t.Fatal(err)
	}
	if stored["apiVersion"] != "conv.example.com/v2" || stored["spec"].(map[string]any)["hostname"] != "a.example.com" {
		t.Errorf("stored %v", stored)
	}
	got, err := v2.Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := unstructured.NestedString(got.Object, "spec", "hostname"); h != "a.example.com" || got.GetUID() != created.GetUID() {
		t.Errorf("read through v2: %v", got.Object)
	}
	// And the other way round.
	if _, err := v2.Create(ctx, crObj(t, conv("v2", "b", "hostname", "b.example.com")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err = v1.Get(ctx, "b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := unstructured.NestedString(got.Object, "spec", "host"); h != "b.example.com" || got.GetAPIVersion() != "conv.example.com/v1" {
		t.Errorf("read through v1: %v", got.Object)
	}
	if p, _, _ := unstructured.NestedInt64(got.Object, "spec", "port"); p != 80 {
		t.Errorf("read through v1 without v1's default port: %v", got.Object["spec"])
	}
	if _, err := v1.Create(ctx, crObj(t, conv("v1", "c", "host", "c.example.com")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("lists", func(t *testing.T) {
		for _, c := range []struct {
			rc         dynamic.ResourceInterface
			version    string
			field      string
			oneReview  bool
			selectorOK bool
		}{{v1, "v1", "host", true, true}, {v2, "v2", "hostname", false, true}} {
			hook.counts()
			l, err := c.rc.List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if l.GetAPIVersion() != "conv.example.com/"+c.version || !slices.Equal(namesOf(l), []string{"a", "b", "c"}) {
				t.Errorf("%s list %s %v", c.version, l.GetAPIVersion(), namesOf(l))
			}
			for _, it := range l.Items {
				if h, _, _ := unstructured.NestedString(it.Object, "spec", c.field); !strings.HasSuffix(h, ".example.com") || it.GetAPIVersion() != "conv.example.com/"+c.version {
					t.Errorf("%s list item %v", c.version, it.Object)
				}
			}
			reviews := hook.counts()
			// (The watches opened above may convert their events
			// meanwhile: a review of 1 object each.)
			if c.oneReview && !slices.Contains(reviews, 3) {
				t.Errorf("%s list: reviews of %v objects, want one of 3", c.version, reviews)
			}
			if !c.oneReview && slices.Contains(reviews, 3) {
				t.Errorf("%s list (the storage version): reviews %v, want none", c.version, reviews)
			}
			sel, err := c.rc.List(ctx, metav1.ListOptions{LabelSelector: "app=c", FieldSelector: "metadata.name=b"})
			if err != nil || !slices.Equal(namesOf(sel), []string{"b"}) {
				t.Errorf("%s list by selectors: %v %v", c.version, err, sel)
			}
		}
	})

	t.Run("watch", func(t *testing.T) {
		for _, c := range []struct {
			w       watch.Interface
			version string
			field   string
		}{{w1, "v1", "host"}, {w2, "v2", "hostname"}} {
			seen := map[string]string{}
			timeout := time.After(10 * time.Second)
			for len(seen) < 3 {
				select {
				case e := <-c.w.ResultChan():
					u, ok := e.Object.(*unstructured.Unstructured)
					if !ok || e.Type != watch.Added {
						t.Fatalf("%s watch: %s %v", c.version, e.Type, e.Object)
					}
					h, _, _ := unstructured.NestedString(u.Object, "spec", c.field)
					if u.GetAPIVersion() != "conv.example.com/"+c.version {
						t.Errorf("%s watch: event of %s", c.version, u.GetAPIVersion())
					}
					seen[u.GetName()] = h
				case <-timeout:
					t.Fatalf("%s watch: saw %v", c.version, seen)
				}
			}
			if seen["a"] != "a.example.com" || seen["b"] != "b.example.com" {
				t.Errorf("%s watch: %v", c.version, seen)
			}
		}
	})

	t.Run("an event converted once for all watchers", func(t *testing.T) {
		l, err := v1.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ws []watch.Interface
		for range 3 {
			w, err := v1.Watch(ctx, metav1.ListOptions{ResourceVersion: l.GetResourceVersion()})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			ws = append(ws, w)
		}
		hook.counts()
		if _, err := v2.Create(ctx, crObj(t, conv("v2", "e", "hostname", "e.example.com")), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, w := range ws {
			select {
			case e := <-w.ResultChan():
				if u, ok := e.Object.(*unstructured.Unstructured); !ok || u.GetName() != "e" || u.Object["spec"].(map[string]any)["host"] != "e.example.com" {
					t.Errorf("watcher %d: %s %v", i, e.Type, e.Object)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("watcher %d saw nothing", i)
			}
		}
		if got := hook.counts(); !slices.Equal(got, []int{1}) {
			t.Errorf("reviews of %v objects for 3 watchers of one event, want one of 1", got)
		}
		if err := v2.Delete(ctx, "e", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("update through v1", func(t *testing.T) {
		patch := `{"spec":{"host":"a2.example.com"}}`
		if _, err := v1.Patch(ctx, "a", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := v2.Get(ctx, "a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h, _, _ := unstructured.NestedString(got.Object, "spec", "hostname"); h != "a2.example.com" {
			t.Errorf("patched through v1, read through v2: %v", got.Object["spec"])
		}
	})

	if err := crdStoredVersions(ctx, dc, "convs.conv.example.com", "v2"); err != nil {
		t.Error(err)
	}

	t.Run("webhook changes metadata", func(t *testing.T) {
		hook.mu.Lock()
		hook.answer = func(r *apiextensionsv1.ConversionReview) {
			var u map[string]any
			_ = json.Unmarshal(r.Response.ConvertedObjects[0].Raw, &u)
			u["metadata"].(map[string]any)["name"] = "other"
			r.Response.ConvertedObjects[0].Raw, _ = json.Marshal(u)
		}
		hook.mu.Unlock()
		defer func() { hook.mu.Lock(); hook.answer = nil; hook.mu.Unlock() }()
		_, err := v1.Get(ctx, "b", metav1.GetOptions{})
		want := "conversion webhook for conv.example.com/v2, Kind=Conv returned invalid object: must have the same name: b != other"
		if code, _ := statusCauses(err); code != 500 || err.Error() != want {
			t.Errorf("get: %v (%d), want 500 %q", err, code, want)
		}
	})

	t.Run("webhook fails", func(t *testing.T) {
		hook.setFail("no way")
		defer hook.setFail("")
		_, err := v1.Get(ctx, "b", metav1.GetOptions{})
		checkStatus(t, err, "conversion webhook for conv.example.com/v2, Kind=Conv failed: no way")
		_, err = v1.List(ctx, metav1.ListOptions{})
		checkStatus(t, err, "conversion webhook for conv.example.com/v2, Kind=Conv failed: no way")
		_, err = v1.Create(ctx, crObj(t, conv("v1", "d", "host", "d.example.com")), metav1.CreateOptions{})
		checkStatus(t, err, "conversion webhook for conv.example.com/v1, Kind=Conv failed: no way")
		if _, err := v2.Get(ctx, "b", metav1.GetOptions{}); err != nil {
			t.Errorf("the storage version needs no webhook: %v", err)
		}
	})

	t.Run("webhook down", func(t *testing.T) {
		hook.srv.Close()
		_, err := v1.Get(ctx, "b", metav1.GetOptions{})
		prefix := fmt.Sprintf("conversion webhook for conv.example.com/v2, Kind=Conv failed: Post %q: dial tcp ", hook.url()+"?timeout=30s")
		if code, _ := statusCauses(err); code != 500 || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("get with the webhook down: %v (%d), want 500 %q...", err, code, prefix)
		}
	})
}

// checkStatus checks an error is upstream's 500 of reason Unknown with
// message msg.
func checkStatus(t *testing.T, err error, msg string) {
	t.Helper()
	se, ok := err.(apierrors.APIStatus)
	if !ok {
		t.Errorf("error %v, want a status %q", err, msg)
		return
	}
	st := se.Status()
	if st.Code != 500 || st.Reason != metav1.StatusReasonUnknown || st.Message != msg {
		t.Errorf("status %d %q %q, want 500 \"\" %q", st.Code, st.Reason, st.Message, msg)
	}
}
