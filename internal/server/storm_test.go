package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/server"
)

// Issue 8's bounded bad-input test: the shapes of the defects,
// each with its expected answer, and a few hundred malformed requests
// (bodies, patches, names, selectors, resource versions, continue tokens,
// headers, query parameters, oversized and slow bodies, unknown paths and
// methods), generated from a fixed seed and sent over HTTP/1.1 and HTTP/2
// by a few workers. Nothing may be answered 5xx but the 504 of a request
// that asked to time out; nothing may panic; memory stays bounded; and the
// server serves correctly afterwards.
func TestStorm(t *testing.T) {
	start := time.Now()
	logs := &stormLog{}
	f := startFull(t, func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	t.Logf("server ready in %v", time.Since(start).Round(time.Millisecond))
	cs := kubernetes.NewForConfigOrDie(stormRESTConfig(f))
	stormSetup(t, cs)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	s := &stormer{t: t, f: f,
		h1:      stormClient(f.tlsConfig(t, f.admin(t)), false),
		h2:      stormClient(f.tlsConfig(t, f.admin(t)), true),
		anon:    stormClient(f.tlsConfig(t, nil), false),
		emptyCN: stormClient(f.tlsConfig(t, emptyCNCert(t, f)), false),
	}

	// The defects, once each, in order (they set up nothing for
	// each other), before the storm changes anything.
	for _, r := range stormDefects() {
		s.do(r)
	}

	// The slow bodies run alongside the storm.
	var slow sync.WaitGroup
	for i := range 3 {
		slow.Go(func() { s.trickled(i) })
	}
	slow.Go(s.slowH2)

	reqs := stormRequests(t)
	work := make(chan stormReq)
	var workers sync.WaitGroup
	for range 4 {
		workers.Go(func() {
			for r := range work {
				s.do(r)
			}
		})
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	workers.Wait()
	slow.Wait()
	for _, c := range []*http.Client{s.h1, s.h2, s.anon, s.emptyCN} {
		c.CloseIdleConnections()
	}

	s.mu.Lock()
	cats := make([]string, 0, len(s.cats))
	for c := range s.cats {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	total := 0
	for _, c := range cats {
		total += s.cats[c]
		var codes []string
		for _, code := range slices.Sorted(maps.Keys(s.codes[c])) {
			codes = append(codes, fmt.Sprintf("%d×%d", code, s.codes[c][code]))
		}
		t.Logf("%-12s %4d requests: %s", c, s.cats[c], strings.Join(codes, " "))
	}
	t.Logf("%d requests (%d over HTTP/2) in %v", total, s.overH2, time.Since(start).Round(time.Millisecond))
	if s.overH2 == 0 {
		t.Error("no request went over HTTP/2")
	}
	for _, o := range s.offenders {
		t.Error(o)
	}
	s.mu.Unlock()

	// Memory: what the storm left behind, and the process's peak.
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("heap in use %d MiB before, %d MiB after", before.HeapInuse>>20, after.HeapInuse>>20)
	if grew > 256<<20 {
		t.Errorf("the heap in use grew by %d MiB", grew>>20)
	}
	if hwm := stormVmHWM(t); hwm > 2<<30 {
		t.Errorf("peak resident memory %d MiB", hwm>>20)
	} else {
		t.Logf("peak resident memory %d MiB", hwm>>20)
	}

	stormStillServes(t, f, cs)

	l := logs.String()
	if !strings.Contains(l, "serving the Kubernetes API") {
		t.Errorf("the server's log was not captured: %q", stormTrim(l, 500))
	}
	if strings.Contains(strings.ToLower(l), "panic") {
		var lines []string
		for line := range strings.Lines(l) {
			if strings.Contains(strings.ToLower(line), "panic") {
				lines = append(lines, strings.TrimSpace(line))
			}
		}
		t.Errorf("the log tells of a panic:\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("storm done in %v", time.Since(start).Round(time.Millisecond))
}

// stormReq is one request of the storm.
type stormReq struct {
	cat     string
	method  string
	path    string // with the query
	ctype   string
	header  http.Header
	body    []byte
	want    int           // the status expected; 0: any below 500
	timeout bool          // a deliberate timeout: 504 is allowed
	stream  bool          // a watch: only the status is read
	h1      bool          // HTTP/1.1 only
	mayFail bool          // the server may close the connection instead of answering
	client  string        // "" admin, "anon" no certificate, "emptycn"
	within  time.Duration // the whole answer, body included, within (0: 30 s)
}

// stormer sends the storm's requests and records the offenders.
type stormer struct {
	t                     *testing.T
	f                     *full
	h1, h2, anon, emptyCN *http.Client
	mu                    sync.Mutex
	n, overH2             int
	cats                  map[string]int
	codes                 map[string]map[int]int // category → status → count; 0: no answer
	offenders             []string
}

func (s *stormer) offend(r stormReq, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offenders = append(s.offenders, fmt.Sprintf("[%s] %s %s (%s, %d bytes): ", r.cat, r.method, stormTrim(r.path, 200), r.ctype, len(r.body))+fmt.Sprintf(format, args...))
}

func (s *stormer) do(r stormReq) {
	s.mu.Lock()
	i := s.n
	s.n++
	if s.cats == nil {
		s.cats = map[string]int{}
	}
	s.cats[r.cat]++
	s.mu.Unlock()

	c := s.h1
	switch {
	case r.client == "anon":
		c = s.anon
	case r.client == "emptycn":
		c = s.emptyCN
	case !r.h1 && i%3 == 0:
		c = s.h2
	}
	within := r.within
	if within == 0 {
		within = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(s.t.Context(), within)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, s.f.info.URL+r.path, body)
	if err != nil {
		s.offend(r, "no request: %v", err)
		return
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	begin := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		s.code(r, 0)
		if !r.mayFail {
			s.offend(r, "no answer after %v: %v", time.Since(begin), err)
		}
		return
	}
	defer resp.Body.Close()
	s.code(r, resp.StatusCode)
	if resp.ProtoMajor == 2 {
		s.mu.Lock()
		s.overH2++
		s.mu.Unlock()
	}
	var prefix []byte
	if !r.stream {
		prefix, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil && !r.mayFail {
			s.offend(r, "%d, reading the body after %v: %v", resp.StatusCode, time.Since(begin), err)
			return
		}
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusGatewayTimeout && r.timeout && bytes.Contains(prefix, []byte(`"reason":"Timeout"`)):
	case code >= 500:
		s.offend(r, "%d %s", code, stormTrim(string(prefix), 300))
	case r.want != 0 && code != r.want:
		s.offend(r, "%d, want %d: %s", code, r.want, stormTrim(string(prefix), 300))
	}
}

// trickled sends a body a byte every 200 ms with ?timeout=1s: the answer is
// 504, within a few seconds.
func (s *stormer) trickled(i int) {
	paths := []string{"/api/v1/namespaces/storm/configmaps?timeout=1s", "/api/v1/namespaces/storm/secrets?timeout=1s",
		"/apis/apps/v1/namespaces/storm/deployments?timeout=1s"}
	r := stormReq{cat: "slow", method: "POST", path: paths[i%len(paths)], ctype: "application/json"}
	s.count(r)
	conn := trickle(s.t, s.f, r.path, 200*time.Millisecond)
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	begin := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		s.offend(r, "no answer after %v: %v", time.Since(begin), err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	conn.Close()
	s.code(r, resp.StatusCode)
	if resp.StatusCode != http.StatusGatewayTimeout {
		s.offend(r, "%d %s, want 504", resp.StatusCode, stormTrim(string(body), 300))
	}
	if took := time.Since(begin); took > 5*time.Second {
		s.offend(r, "answered after %v", took)
	}
}

// slowH2 is trickled over HTTP/2.
func (s *stormer) slowH2() {
	r := stormReq{cat: "slow", method: "POST", path: "/api/v1/namespaces/storm/pods?timeout=1s", ctype: "application/json"}
	s.count(r)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		_, _ = pw.Write([]byte("{"))
		for {
			select {
			case <-done:
				pw.Close()
				return
			case <-time.After(200 * time.Millisecond):
				if _, err := pw.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	defer close(done)
	ctx, cancel := context.WithTimeout(s.t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, s.f.info.URL+r.path, pr)
	if err != nil {
		s.offend(r, "no request: %v", err)
		return
	}
	req.Header.Set("Content-Type", r.ctype)
	begin := time.Now()
	resp, err := s.h2.Do(req)
	if err != nil {
		s.offend(r, "no answer over HTTP/2 after %v: %v", time.Since(begin), err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	s.code(r, resp.StatusCode)
	if resp.ProtoMajor != 2 {
		s.offend(r, "answered over HTTP/%d", resp.ProtoMajor)
	}
	if resp.StatusCode != http.StatusGatewayTimeout {
		s.offend(r, "%d %s, want 504", resp.StatusCode, stormTrim(string(body), 300))
	}
	if took := time.Since(begin); took > 5*time.Second {
		s.offend(r, "answered after %v", took)
	}
}

func (s *stormer) code(r stormReq, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = map[string]map[int]int{}
	}
	if s.codes[r.cat] == nil {
		s.codes[r.cat] = map[int]int{}
	}
	s.codes[r.cat][code]++
}

func (s *stormer) count(r stormReq) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cats == nil {
		s.cats = map[string]int{}
	}
	s.cats[r.cat]++
}

// stormDefects are the shapes of issue 8's defects with their answers.
func stormDefects() []stormReq {
	var ops []string
	for i := range 30 {
		ops = append(ops, fmt.Sprintf(`{"op":"copy","from":"/data","path":"/data/c%d"}`, i))
	}
	bomb := "[" + strings.Join(ops, ",") + "]"
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"op":"test","path":"/metadata/name","value":"ops"},`, 10001), ",") + "]"
	const cms = "/api/v1/namespaces/default/configmaps"
	d := func(method, path, ctype, body string, want int) stormReq {
		r := stormReq{cat: "defect", method: method, path: path, ctype: ctype, want: want}
		if body != "" {
			r.body = []byte(body)
		}
		return r
	}
	out := []stormReq{
		// 1: a JSON patch copy bomb; more than 10,000 operations.
		d("PATCH", cms+"/bomb", "application/json-patch+json", bomb, 422),
		d("PATCH", cms+"/ops", "application/json-patch+json", many, 413),
		// 2: namespaces are no collection to delete; the system ones stay.
		d("DELETE", "/api/v1/namespaces", "", "", 405),
		d("DELETE", "/api/v1/namespaces?propagationPolicy=Bogus&labelSelector=a%3D(", "", "", 405),
		d("DELETE", "/api/v1/namespaces/default", "", "", 403),
		d("DELETE", "/api/v1/namespaces/kube-system", "", "", 403),
		d("DELETE", "/api/v1/namespaces/kube-public?dryRun=All", "", "", 403),
		// 6: immutable config maps, secret types.
		d("PUT", cms+"/frozen", "application/json",
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"frozen"},"immutable":true,"data":{"a":"changed"}}`, 422),
		d("PATCH", cms+"/frozen", "application/merge-patch+json", `{"immutable":false}`, 422),
		d("PUT", "/api/v1/namespaces/default/secrets/plain", "application/json",
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"plain"},"type":"kubernetes.io/basic-auth","data":{"username":"dQ=="}}`, 422),
		d("POST", "/api/v1/namespaces/default/secrets", "application/json",
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"tls"},"type":"kubernetes.io/tls"}`, 422),
		// 7: who the caller is.
		{cat: "defect", method: "GET", path: "/api/v1/namespaces", client: "emptycn", want: 403}, // anonymous: RBAC refuses
		{cat: "defect", method: "GET", path: "/api/v1/namespaces", client: "anon", want: 403},
		{cat: "defect", method: "GET", path: "/readyz", client: "anon", want: 200},
		{cat: "defect", method: "GET", path: "/api/v1/namespaces", header: http.Header{"Impersonate-User": {"someone"}}, want: 403},
		{cat: "defect", method: "GET", path: "/api/v1/namespaces", header: http.Header{"Impersonate-Group": {"system:masters"}}, want: 400},
		// 8: a watch with a negative timeout ends at once.
		{cat: "defect", method: "GET", path: cms + "?watch=1&timeoutSeconds=-1", want: 200, within: 5 * time.Second},
	}
	return out
}

// stormSetup creates what the storm's requests aim at.
func stormSetup(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := t.Context()
	yes := true
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "storm"}}, metav1.CreateOptions{}))
	d := cs.CoreV1().ConfigMaps("default")
	must(d.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bomb"}, Data: map[string]string{"k": strings.Repeat("x", 1024)}}, metav1.CreateOptions{}))
	must(d.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ops"}}, metav1.CreateOptions{}))
	must(d.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "frozen"}, Immutable: &yes, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Data: map[string][]byte{"username": []byte("u")}}, metav1.CreateOptions{}))
	for _, o := range stormObjects() {
		switch o := o.obj.(type) {
		case *corev1.ConfigMap:
			must(cs.CoreV1().ConfigMaps("storm").Create(ctx, o, metav1.CreateOptions{}))
		case *corev1.Secret:
			must(cs.CoreV1().Secrets("storm").Create(ctx, o, metav1.CreateOptions{}))
		case *corev1.Pod:
			must(cs.CoreV1().Pods("storm").Create(ctx, o, metav1.CreateOptions{}))
		case *appsv1.Deployment:
			must(cs.AppsV1().Deployments("storm").Create(ctx, o, metav1.CreateOptions{}))
		}
	}
	for i := range 5 { // something to page through
		must(cs.CoreV1().ConfigMaps("storm").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("page-%d", i)}}, metav1.CreateOptions{}))
	}
}

// stormObject is a resource the storm aims at, with a valid object of it.
type stormObject struct {
	coll, item string // paths
	json       string
	obj        k8sruntime.Object
}

func stormObjects() []stormObject {
	labels := map[string]string{"app": "storm"}
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}
	one := int32(1)
	objs := []stormObject{
		{coll: "/api/v1/namespaces/storm/configmaps", obj: &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "target", Labels: labels}, Data: map[string]string{"k": "v"}}},
		{coll: "/api/v1/namespaces/storm/secrets", obj: &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: "target", Labels: labels}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}},
		{coll: "/api/v1/namespaces/storm/pods", obj: &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: "target", Labels: labels}, Spec: podSpec}},
		{coll: "/api/v1/namespaces", obj: &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: "storm", Labels: labels}}},
		{coll: "/apis/apps/v1/namespaces/storm/deployments", obj: &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "target", Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}}}},
	}
	for i := range objs {
		o := &objs[i]
		name := "target"
		if strings.HasSuffix(o.coll, "/namespaces") {
			name = "storm"
		}
		o.item = o.coll + "/" + name
		b, err := k8sruntime.Encode(scheme.Codecs.LegacyCodec(corev1.SchemeGroupVersion, appsv1.SchemeGroupVersion), o.obj)
		if err != nil {
			panic(err)
		}
		o.json = string(bytes.TrimSpace(b))
	}
	return objs
}

// stormRequests generates the storm, the same every run.
func stormRequests(t *testing.T) []stormReq {
	rng := rand.New(rand.NewPCG(8, 2026))
	var out []stormReq
	add := func(r stormReq) { out = append(out, r) }
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	objs := stormObjects()
	pb := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	const (
		ctJSON  = "application/json"
		ctYAML  = "application/yaml"
		ctPB    = "application/vnd.kubernetes.protobuf"
		ctCBOR  = "application/cbor"
		ctJP    = "application/json-patch+json"
		ctMP    = "application/merge-patch+json"
		ctSMP   = "application/strategic-merge-patch+json"
		ctApply = "application/apply-patch+yaml"
	)
	patchTypes := []string{ctJP, ctMP, ctSMP}

	// Bodies: every resource, on create, update or patch.
	for oi, o := range objs {
		other := objs[(oi+1)%len(objs)]
		var pbBody bytes.Buffer
		if err := pb.Encode(o.obj, &pbBody); err != nil {
			t.Fatal(err)
		}
		var pbOther bytes.Buffer
		if err := pb.Encode(other.obj, &pbOther); err != nil {
			t.Fatal(err)
		}
		valid := o.json
		kind := o.obj.GetObjectKind().GroupVersionKind()
		jsonBodies := map[string]string{
			"garbage":        string(garbage(1 + rng.IntN(2000))),
			"garbage-text":   "{this is: not, [json}",
			"truncated":      valid[:1+rng.IntN(len(valid)-2)],
			"truncated-half": valid[:len(valid)/2],
			"nested-array":   strings.Repeat("[", 10000),
			"nested-object":  strings.Repeat(`{"a":`, 10000),
			"nested-closed":  strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
			"nested-field":   strings.Replace(valid, `"metadata":{`, `"metadata":{"labels":`+strings.Repeat(`{"a":`, 2500)+"1"+strings.Repeat("}", 2500)+",", 1),
			"huge-number":    strings.Replace(valid, `"metadata":{`, `"metadata":{"generation":1e999,`, 1),
			"long-number":    strings.Replace(valid, `"metadata":{`, `"metadata":{"generation":`+strings.Repeat("9", 100000)+",", 1),
			"negative-gen":   strings.Replace(valid, `"metadata":{`, `"metadata":{"generation":-99999999999999999999,`, 1),
			"float-replicas": `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"target"},"spec":{"replicas":1.5e300}}`,
			"wrong-kind":     strings.Replace(valid, `"kind":"`+kind.Kind+`"`, `"kind":"`+other.obj.GetObjectKind().GroupVersionKind().Kind+`"`, 1),
			"unknown-kind":   strings.Replace(valid, `"kind":"`+kind.Kind+`"`, `"kind":"Bogus"`, 1),
			"no-kind":        strings.Replace(valid, `"kind":"`+kind.Kind+`"`, `"kind":""`, 1),
			"wrong-version":  strings.Replace(valid, `"apiVersion":"`+kind.GroupVersion().String()+`"`, `"apiVersion":"v9"`, 1),
			"other-group":    strings.Replace(valid, `"apiVersion":"`+kind.GroupVersion().String()+`"`, `"apiVersion":"bogus.example.com/v1"`, 1),
			"bad-utf8":       strings.Replace(valid, `"name":"`, "\"name\":\"\xff\xfe", 1),
			"bad-utf8-key":   strings.Replace(valid, `"metadata":{`, "\"metadata\":{\"labels\":{\"\xff\xc0\":\"\xed\xa0\x80\"},", 1),
			"nul":            strings.Replace(valid, `"metadata":{`, "\"metadata\":{\"annotations\":{\"a\":\"\\u0000\x00\"},", 1),
			"empty":          "",
			"null":           "null",
			"array":          "[]",
			"string":         `"ConfigMap"`,
			"dup-fields":     strings.Replace(valid, `{`, `{"kind":"Secret","metadata":null,`, 1),
			"type-confusion": strings.Replace(valid, `"metadata":{`, `"metadata":{"labels":[1,2],"annotations":"x","finalizers":{"a":1},`, 1),
			"metadata-str":   `{"apiVersion":"v1","kind":"ConfigMap","metadata":"x"}`,
			"bom":            "\xef\xbb\xbf" + valid,
			"trailing":       valid + "}}}][garbage",
			"two-objects":    valid + valid,
		}
		yamlBodies := map[string]string{
			"garbage":    "a: b: c:\n\t- ]\n  ? [\n%%%",
			"truncated":  "apiVersion: " + kind.GroupVersion().String() + "\nkind: " + kind.Kind + "\nmetadata:\n  name: [",
			"nested":     strings.Repeat("[", 10000),
			"nested-map": strings.Repeat("{a: ", 10000),
			"alias-bomb": "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
				"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
				"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n" +
				"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
			"wrong-kind":  "apiVersion: v1\nkind: " + other.obj.GetObjectKind().GroupVersionKind().Kind + "\nmetadata:\n  name: target\n",
			"tags":        "apiVersion: !!binary AAAA\nkind: !!python/object:os.system ConfigMap\nmetadata: !!set {a, b}\n",
			"multi-doc":   "---\n" + valid + "\n---\n" + other.json + "\n",
			"bad-utf8":    "apiVersion: v1\nkind: \xff\xfe\nmetadata:\n  name: \xc0\x80\n",
			"huge-number": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: target\n  generation: 1e99999\n",
			"merge-keys":  "x: &x {kind: ConfigMap}\n<<: *x\n<<: [*x, *x]\napiVersion: v1\n",
		}
		pbBodies := map[string][]byte{
			"garbage":     garbage(1 + rng.IntN(2000)),
			"magic-only":  []byte("k8s\x00"),
			"magic-junk":  append([]byte("k8s\x00"), garbage(200)...),
			"truncated":   pbBody.Bytes()[:4+rng.IntN(pbBody.Len()-5)],
			"wrong-kind":  pbOther.Bytes(),
			"huge-length": append([]byte("k8s\x00\x0a\xff\xff\xff\xff\x0f"), garbage(16)...),
			"flipped":     stormFlip(rng, pbBody.Bytes(), 8),
		}
		cborBodies := map[string][]byte{
			"garbage":     garbage(1 + rng.IntN(500)),
			"self-descr":  append([]byte{0xd9, 0xd9, 0xf7}, garbage(100)...),
			"nested":      append([]byte{0xd9, 0xd9, 0xf7}, bytes.Repeat([]byte{0x81}, 10000)...),
			"huge-length": {0xd9, 0xd9, 0xf7, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			"huge-map":    {0xd9, 0xd9, 0xf7, 0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		}
		verb := func() (string, string) {
			switch rng.IntN(3) {
			case 0:
				return "POST", o.coll
			case 1:
				return "PUT", o.item
			}
			return "PATCH", o.item
		}
		for _, name := range stormKeys(jsonBodies) {
			m, p := verb()
			ct := ctJSON
			if m == "PATCH" {
				ct = pick(patchTypes)
			}
			add(stormReq{cat: "body-json", method: m, path: p, ctype: ct, body: []byte(jsonBodies[name])})
		}
		for _, name := range stormKeys(yamlBodies) {
			m, p := verb()
			ct := ctYAML
			if m == "PATCH" {
				ct = ctApply
			}
			add(stormReq{cat: "body-yaml", method: m, path: p, ctype: ct, body: []byte(yamlBodies[name])})
		}
		for _, name := range stormKeys(pbBodies) {
			m, p := verb()
			add(stormReq{cat: "body-pb", method: m, path: p, ctype: ctPB, body: pbBodies[name]})
		}
		for _, name := range stormKeys(cborBodies) {
			m, p := verb()
			add(stormReq{cat: "body-cbor", method: m, path: p, ctype: ctCBOR, body: cborBodies[name]})
		}
		// Random mutations of the valid object.
		for range 6 {
			m, p := verb()
			ct := ctJSON
			if m == "PATCH" {
				ct = pick([]string{ctMP, ctSMP})
			}
			add(stormReq{cat: "body-mutant", method: m, path: p + "?dryRun=All", ctype: ct, body: stormFlip(rng, []byte(valid), 1+rng.IntN(6))})
		}
	}

	// Patches of every type with bad bodies.
	cm := "/api/v1/namespaces/storm/configmaps/target"
	pod := "/api/v1/namespaces/storm/pods/target"
	dep := "/apis/apps/v1/namespaces/storm/deployments/target"
	// A merge patch's cost grows with the square of its nesting (about
	// 4 s at 5,000 levels, 14 s at 10,000): 2,500 keeps the test short.
	deep := strings.Repeat("[", 2500) + strings.Repeat("]", 2500)
	jsonPatches := []string{
		`[{"op":"bogus","path":"/a"}]`, `[{"op":"add"}]`, `[{"path":"/data/x","value":"1"}]`,
		`[{"op":"add","path":"/metadata/~2","value":1}]`, `[{"op":"add","path":"/metadata/~","value":1}]`,
		`[{"op":"add","path":"/metadata/labels/a~1b~0c","value":"x"}]`, `[{"op":"remove","path":"/metadata"}]`,
		`[{"op":"remove","path":"/"}]`, `[{"op":"replace","path":"","value":null}]`, `[{"op":"replace","path":"","value":[]}]`,
		`[{"op":"move","from":"/data","path":"/data/x"}]`, `[{"op":"copy","from":"/nope","path":"/x"}]`,
		`[{"op":"test","path":"/metadata/name","value":"other"}]`, `[{"op":"add","path":"/data/-","value":1}]`,
		`[{"op":"add","path":"/spec/containers/999999999999999999999","value":{}}]`, `[{"op":"add","path":"/spec/containers/-1","value":{}}]`,
		`{"op":"add","path":"/data/x","value":"1"}`, `[]`, `[null]`, `[1,2,3]`, `[{"op":null,"path":null}]`,
		`[{"op":"add","path":"/a/b/c/d/e/f","value":1}]`, `[{"op":"replace","path":"/metadata/name","value":"` + strings.Repeat("n", 1000) + `"}]`,
		`[{"op":"replace","path":"/metadata/resourceVersion","value":"abc"}]`, `[{"op":"replace","path":"/kind","value":"Secret"}]`,
		`[{"op":"replace","path":"/apiVersion","value":"v9"}]`, `[{"op":"replace","path":"/metadata/uid","value":"x"}]`,
		`[{"op":"add","path":"/data/deep","value":` + deep + `}]`, `[{"op":"add","path":"/metadata/labels","value":{"a":1}}]`,
		`[{"op":"add","path":"/spec/replicas","value":-5}]`, `[{"op":"add","path":"/spec/replicas","value":1e400}]`,
		`[{"op":"move","from":"/metadata","path":"/spec"}]`, `[{"op":"copy","from":"/","path":"/data/self"}]`,
		"[" + strings.TrimSuffix(strings.Repeat(`{"op":"add","path":"/metadata/annotations","value":{}},`, 5000), ",") + "]",
	}
	mergePatches := []string{
		`null`, `[]`, `"x"`, `1`, `{"metadata":null}`, `{"metadata":{"name":null}}`, `{"kind":null}`, `{"apiVersion":null}`,
		`{"apiVersion":"v9"}`, `{"kind":"Secret"}`, `{"data":null}`, `{"metadata":{"resourceVersion":"abc"}}`,
		`{"metadata":{"resourceVersion":"1"}}`, `{"metadata":{"resourceVersion":"99999999999999999999"}}`,
		`{"spec":{"replicas":"many"}}`, `{"spec":{"containers":null}}`, `{"spec":{"containers":[{}]}}`,
		`{"metadata":{"labels":{"` + strings.Repeat("k", 300) + `":"v"}}}`, `{"metadata":{"finalizers":[1]}}`,
		`{"metadata":{"ownerReferences":[{"uid":"x"}]}}`, `{"data":{"a":` + deep + `}}`, `{"":{"":{"":null}}}`,
	}
	smPatches := []string{
		`{"$patch":"delete"}`, `{"$patch":"bogus"}`, `{"$patch":"replace"}`, `{"data":{"$patch":"delete"}}`,
		`{"spec":{"template":{"spec":{"containers":[{"$patch":"delete"}]}}}}`, `{"spec":{"$retainKeys":"notalist"}}`,
		`{"spec":{"$retainKeys":[1,2]}}`, `{"spec":{"strategy":{"$retainKeys":["bogus"],"type":"Recreate"}}}`,
		`{"$setElementOrder/containers":"x"}`, `{"spec":{"$setElementOrder/containers":[{"name":1}]}}`,
		`{"metadata":{"$deleteFromPrimitiveList/finalizers":"x"}}`, `{"metadata":{"$deleteFromPrimitiveList/finalizers":[{"a":1}]}}`,
		`{"spec":{"containers":[{"name":"c","$patch":"replace"}]}}`, `{"spec":{"containers":{"$patch":"replace"}}}`,
		`{"spec":{"containers":[{"$patch":"merge"}]}}`, `{"spec":{"containers":[{"name":null}]}}`, `{"spec":{"containers":["x"]}}`,
		`{"spec":{"$retainKeys":["containers"],"containers":null}}`, `{"$patch":"delete","$retainKeys":[]}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"c"}],"containers":[{"name":"c","image":"x"}]}}}}`,
	}
	targets := []string{cm, pod, dep}
	for _, p := range jsonPatches {
		add(stormReq{cat: "patch", method: "PATCH", path: pick(targets) + "?dryRun=All", ctype: ctJP, body: []byte(p)})
	}
	for _, p := range mergePatches {
		add(stormReq{cat: "patch", method: "PATCH", path: pick(targets) + "?dryRun=All", ctype: ctMP, body: []byte(p)})
	}
	for _, p := range smPatches {
		add(stormReq{cat: "patch", method: "PATCH", path: pick(targets) + "?dryRun=All", ctype: ctSMP, body: []byte(p)})
	}
	// An apply configuration without apiVersion and kind.
	add(stormReq{cat: "patch", method: "PATCH", path: cm + "?fieldManager=storm", ctype: ctApply, body: []byte(`{"data":{"a":"b"}}`), want: 400})
	for _, ct := range []string{"application/apply-patch+cbor", ctJSON, ctYAML, ctPB, "application/bogus-patch+json", "", "*/*"} {
		add(stormReq{cat: "patch", method: "PATCH", path: cm + "?fieldManager=storm", ctype: ct, body: []byte(`{"data":{"a":"b"}}`), want: 415})
	}
	for _, ct := range patchTypes {
		add(stormReq{cat: "patch", method: "PATCH", path: cm, ctype: ct, body: garbage(300)})
		add(stormReq{cat: "patch", method: "PATCH", path: cm, ctype: ct + "; charset=utf-16", body: []byte(`{}`)})
		add(stormReq{cat: "patch", method: "PATCH", path: cm, ctype: ct, body: nil})
		add(stormReq{cat: "patch", method: "PATCH", path: "/api/v1/namespaces/storm/configmaps/absent", ctype: ct, body: []byte(`{}`), want: 404})
		add(stormReq{cat: "patch", method: "PATCH", path: cm + "?force=true", ctype: ct, body: []byte(`{}`)})
	}

	// Names, in the path and in bodies.
	names := []string{strings.Repeat("a", 254), strings.Repeat("a", 64<<10), "UPPER", "..", ".", "a..b", "-a", "a-", "a_b",
		"a b", "名前", "é", "\u202eevil", "\U0001F4A3", "a\x00b", "\xff", "a:b", "a;b", "a?b", "a#b", ""}
	for _, n := range names {
		esc := url.PathEscape(n)
		add(stormReq{cat: "name", method: "GET", path: "/api/v1/namespaces/storm/configmaps/" + esc})
		add(stormReq{cat: "name", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: ctJSON,
			body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":` + strconv.Quote(n) + `}}`)})
		add(stormReq{cat: "name", method: "GET", path: "/api/v1/namespaces/" + esc + "/configmaps"})
	}
	for _, raw := range []string{"%00", "%2F", "a%2Fb", "..", "%2e%2e", "a/b", "%25", "%ff%fe", ";", "%252F"} {
		add(stormReq{cat: "name", method: pick([]string{"GET", "DELETE", "PUT"}), path: "/api/v1/namespaces/storm/configmaps/" + raw,
			ctype: ctJSON, body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target"}}`)})
	}
	for _, n := range []string{"UPPER-", strings.Repeat("g", 300), "..", "a/", "\xff"} {
		add(stormReq{cat: "name", method: "POST", path: "/api/v1/namespaces/storm/secrets", ctype: ctJSON,
			body: []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"generateName":` + strconv.Quote(n) + `}}`)})
	}
	add(stormReq{cat: "name", method: "PUT", path: cm, ctype: ctJSON, body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}`)})
	add(stormReq{cat: "name", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: ctJSON,
		body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"elsewhere"}}`)})
	add(stormReq{cat: "name", method: "POST", path: "/api/v1/namespaces", ctype: ctJSON,
		body: []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + strings.Repeat("n", 64) + `"}}`)})

	// Label and field selectors, on lists, watches and collection deletes.
	labelSels := []string{"a=(", "a in (b", "!!!", "a,,b", "a notin ()", "=", "a==b==c", "a in (b),c notin (d", strings.Repeat("k", 64) + "=v",
		"a=" + strings.Repeat("v", 64), "名=前", "a!", "!a=b", "a>b", "a<1.5e400", strings.TrimSuffix(strings.Repeat("a=b,", 20000), ","),
		strings.Repeat("(", 1000), "a in (" + strings.Repeat("b,", 5000) + "c)", "\x00", "a=\xff"}
	fieldSels := []string{"metadata.name", "unknown.field=x", "spec.nodeName=a", "metadata.name==a==b", "metadata.name!=",
		"metadata.name=a,", "metadata.name in (a)", "status.phase=Running,status.phase!=Failed", strings.Repeat("metadata.name=a,", 5000) + "x=y",
		"metadata.namespace=\xff", "=a", "metadata.name=a\\", "metadata.name=\\x", "spec.replicas=1"}
	colls := []string{"/api/v1/namespaces/storm/configmaps", "/api/v1/namespaces/storm/pods", "/apis/apps/v1/namespaces/storm/deployments", "/api/v1/namespaces", "/api/v1/configmaps"}
	for _, sel := range labelSels {
		q := "labelSelector=" + url.QueryEscape(sel)
		add(stormReq{cat: "selector", method: "GET", path: pick(colls) + "?" + q})
		add(stormReq{cat: "selector", method: "GET", path: pick(colls) + "?watch=1&timeoutSeconds=1&" + q, stream: true})
	}
	for _, sel := range fieldSels {
		q := "fieldSelector=" + url.QueryEscape(sel)
		add(stormReq{cat: "selector", method: "GET", path: pick(colls) + "?" + q})
		add(stormReq{cat: "selector", method: "GET", path: pick(colls) + "?watch=1&timeoutSeconds=1&" + q, stream: true})
	}
	for _, q := range []string{"labelSelector=a%3D(", "labelSelector=!!!", "fieldSelector=unknown.field%3Dx", "fieldSelector=metadata.name%3D%3Da%3D%3Db"} {
		add(stormReq{cat: "selector", method: "DELETE", path: "/api/v1/namespaces/storm/configmaps?" + q, want: 400})
	}

	// Resource versions.
	rvs := []string{"-1", "abc", "99999999999999999999", "1e3", " 1", "0x10", "1.5", "%00", "18446744073709551616", "-0"}
	for _, rv := range rvs {
		q := "resourceVersion=" + url.QueryEscape(rv)
		add(stormReq{cat: "rv", method: "GET", path: pick(colls) + "?" + q})
		add(stormReq{cat: "rv", method: "GET", path: cm + "?" + q})
		add(stormReq{cat: "rv", method: "GET", path: pick(colls) + "?watch=1&timeoutSeconds=1&" + q, stream: true})
		add(stormReq{cat: "rv", method: "GET", path: pick(colls) + "?resourceVersionMatch=" + pick([]string{"Exact", "NotOlderThan"}) + "&" + q})
	}
	// Far in the future: upstream waits up to 3 s for it, then answers
	// 504 "Too large resource version".
	for _, rv := range []string{"999999999", "9223372036854775807", "100000"} {
		for _, match := range []string{"Exact", "NotOlderThan", ""} {
			add(stormReq{cat: "rv", method: "GET", path: pick(colls) + "?limit=2&resourceVersion=" + rv + "&resourceVersionMatch=" + match, timeout: true})
		}
		add(stormReq{cat: "rv", method: "GET", path: cm + "?resourceVersion=" + rv, timeout: true})
		add(stormReq{cat: "rv", method: "GET", path: pick(colls) + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv, stream: true, timeout: true})
	}
	for _, q := range []string{"resourceVersionMatch=Bogus&resourceVersion=1", "resourceVersionMatch=Exact", "resourceVersionMatch=NotOlderThan&resourceVersion=",
		"resourceVersion=1&resourceVersion=2", "resourceVersionMatch=Exact&resourceVersion=0"} {
		add(stormReq{cat: "rv", method: "GET", path: pick(colls) + "?" + q})
	}
	for _, rv := range []string{"abc", "-1", "99999999999999999999", "1", ""} {
		add(stormReq{cat: "rv", method: "PUT", path: cm, ctype: ctJSON,
			body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target","resourceVersion":"` + rv + `"},"data":{"k":"v"}}`)})
		add(stormReq{cat: "rv", method: "DELETE", path: "/api/v1/namespaces/storm/configmaps/page-0", ctype: ctJSON,
			body: []byte(`{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"` + rv + `","uid":"x"}}`)})
	}

	// Continue tokens.
	tok := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	conts := []string{
		base64.StdEncoding.EncodeToString(garbage(40)), base64.RawURLEncoding.EncodeToString(garbage(64)), "!!!", "====", tok("{"), tok("null"),
		tok(`{"v":"meta.k8s.io/v1","rv":-5,"start":"target\u0000"}`), tok(`{"v":"meta.k8s.io/v1","rv":0,"start":"target"}`),
		tok(`{"v":"meta.k8s.io/v1","rv":5,"start":""}`), tok(`{"v":"meta.k8s.io/v2","rv":5,"start":"a"}`),
		tok(`{"v":"meta.k8s.io/v1","rv":5,"start":"../../secrets/storm/target"}`), tok(`{"v":"meta.k8s.io/v1","rv":5,"start":"/../secrets/"}`),
		tok(`{"v":"meta.k8s.io/v1","rv":1,"start":"storm/page-1"}`), tok(`{"v":"meta.k8s.io/v1","rv":"5","start":7}`),
		tok(`{"v":"meta.k8s.io/v1","rv":1e400,"start":"a"}`), tok(`{"v":"meta.k8s.io/v1","rv":5,"start":"` + strings.Repeat("a", 10000) + `"}`),
		tok(`{"v":"meta.k8s.io/v1","rv":5,"start":"\u0000\uffff"}`), strings.Repeat("A", 100000),
	}
	for i, c := range conts {
		p := pick(colls[:3]) + "?limit=" + strconv.Itoa(1+rng.IntN(3)) + "&continue=" + url.QueryEscape(c)
		if i%4 == 0 {
			p += "&resourceVersion=" + pick([]string{"0", "5", "abc"})
		}
		add(stormReq{cat: "continue", method: "GET", path: p})
	}
	// A token of a future revision waits for it as a resourceVersion does:
	// 504 "Too large resource version".
	for _, rv := range []string{"9223372036854775807", "999999999"} {
		add(stormReq{cat: "continue", method: "GET", path: pick(colls[:3]) + "?limit=1&continue=" +
			tok(`{"v":"meta.k8s.io/v1","rv":`+rv+`,"start":"storm/a"}`), timeout: true})
	}

	// Headers.
	for _, ct := range []string{"text/plain", "application/json; charset=ebcdic", "}{", "application/json;;;", "application/json; a=\"unterminated",
		strings.Repeat("x", 1000), "application/", "/json", "multipart/form-data; boundary=x", "application/json, application/yaml"} {
		add(stormReq{cat: "header", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: ct,
			body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"h-"}}`)})
	}
	for _, acc := range []string{"application/bogus", "*/*;q=abc", "application/json;as=Table;g=meta.k8s.io;v=v9", "application/json;as=Bogus;g=meta.k8s.io;v=v1",
		strings.Repeat("application/json;q=0.1,", 500), ";;;,,,", "application/json;as=Table;g=meta.k8s.io;v=v1;includeObject=Bogus",
		"application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", "application/vnd.kubernetes.protobuf;stream=watch", "text/html", "\xff"} {
		p := pick([]string{cm, "/api/v1/namespaces/storm/configmaps", "/api/v1/namespaces/storm/pods?watch=1&timeoutSeconds=1"})
		add(stormReq{cat: "header", method: "GET", path: p, header: http.Header{"Accept": {acc}}, stream: strings.Contains(p, "watch")})
	}
	add(stormReq{cat: "header", method: "GET", path: "/api/v1/namespaces/storm/configmaps", header: http.Header{"Accept": {"application/bogus"}}, want: 406})
	add(stormReq{cat: "header", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: "text/plain", body: []byte(`{}`), want: 415})
	add(stormReq{cat: "header", method: "GET", path: "/api/v1/namespaces/storm/configmaps", h1: true,
		header: http.Header{"X-Storm": {strings.Repeat("h", 1<<20-64<<10)}}, want: 200})
	add(stormReq{cat: "header", method: "GET", path: "/api/v1/namespaces/storm/configmaps", h1: true, mayFail: true,
		header: http.Header{"X-Storm": {strings.Repeat("h", 1<<20+64<<10)}}, want: 431})
	many := http.Header{}
	for i := range 5000 {
		many.Add(fmt.Sprintf("X-Storm-%d", i), "v")
	}
	add(stormReq{cat: "header", method: "GET", path: "/api/v1/namespaces/storm/configmaps", h1: true, header: many, want: 200})
	add(stormReq{cat: "header", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: ctJSON,
		header: http.Header{"Content-Encoding": {"gzip"}}, body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"h-"}}`)})
	add(stormReq{cat: "header", method: "GET", path: cm, header: http.Header{"Accept-Encoding": {"gzip;q=garbage, br, *"}}})
	add(stormReq{cat: "header", method: "GET", path: cm, header: http.Header{"Authorization": {"Bearer " + strings.Repeat("t", 5000)}}})
	add(stormReq{cat: "header", method: "GET", path: cm, header: http.Header{"Authorization": {"Basic !!!"}}})
	add(stormReq{cat: "header", method: "GET", path: cm, header: http.Header{"Impersonate-Uid": {"x"}, "Impersonate-Extra-Scopes": {"y"}}, want: 400})
	add(stormReq{cat: "header", method: "GET", path: cm, header: http.Header{"Impersonate-User": {""}}, want: 200}) // an empty user asks for no impersonation (upstream's filter)
	add(stormReq{cat: "header", method: "GET", path: cm, header: http.Header{"X-Remote-User": {"admin"}, "X-Forwarded-For": {"\xff, ::::"}}})

	// Query parameters.
	qs := []string{"timeout=-1s", "timeout=abc", "timeout=99999h", "timeout=0", "limit=-5", "limit=abc", "limit=99999999999999999999",
		"limit=0&continue=", "pretty=abc", "allowWatchBookmarks=x", "sendInitialEvents=true", "sendInitialEvents=abc",
		"timeoutSeconds=-1", "timeoutSeconds=abc", "timeoutSeconds=99999999999999999999", "includeUninitialized=1", "%zz=1", "a=%zz",
		"labelSelector=a%3Db&labelSelector=c%3Dd", "resourceVersionMatch=NotOlderThan&resourceVersion=0&sendInitialEvents=true"}
	for _, q := range qs {
		add(stormReq{cat: "query", method: "GET", path: "/api/v1/namespaces/storm/configmaps?" + q})
	}
	add(stormReq{cat: "query", method: "GET", path: "/api/v1/namespaces/storm/configmaps?watch=yes&timeoutSeconds=1", stream: true})
	add(stormReq{cat: "query", method: "GET", path: "/api/v1/namespaces/storm/configmaps?watch=yes", stream: true})
	// An empty watch= is a watch, as upstream's RequestInfoFactory reads it.
	add(stormReq{cat: "query", method: "GET", path: "/api/v1/namespaces/storm/configmaps?watch=", stream: true})
	add(stormReq{cat: "query", method: "GET", path: cm + "?timeout=1ns", timeout: true})
	writeQs := []struct {
		q    string
		want int
	}{{"dryRun=Bogus", 422}, {"dryRun=All&dryRun=Bogus", 422}, {"fieldManager=" + strings.Repeat("m", 300), 422},
		{"fieldValidation=Bogus", 422}, {"fieldManager=%00%ff", 0}, {"fieldValidation=Strict&dryRun=All", 0}}
	for _, w := range writeQs {
		add(stormReq{cat: "query", method: "POST", path: "/api/v1/namespaces/storm/configmaps?" + w.q, ctype: ctJSON,
			body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"q-"},"bogusField":1}`), want: w.want})
		add(stormReq{cat: "query", method: "PATCH", path: cm + "?" + w.q, ctype: ctMP, body: []byte(`{"data":{"q":"1"}}`), want: w.want})
	}
	delQs := []struct {
		q    string
		want int
	}{{"propagationPolicy=Bogus", 422}, {"gracePeriodSeconds=-5&dryRun=All", 0}, {"gracePeriodSeconds=abc", 0},
		{"orphanDependents=maybe&propagationPolicy=Foreground", 0}, {"dryRun=Bogus", 422}, {"gracePeriodSeconds=99999999999999999999", 0}}
	for _, w := range delQs {
		add(stormReq{cat: "query", method: "DELETE", path: "/api/v1/namespaces/storm/configmaps/absent?" + w.q, want: w.want})
		add(stormReq{cat: "query", method: "DELETE", path: "/api/v1/namespaces/storm/pods/target?" + w.q + "&dryRun=All"})
	}
	add(stormReq{cat: "query", method: "DELETE", path: "/api/v1/namespaces/storm/configmaps/absent", ctype: ctJSON,
		body: []byte(`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Bogus","gracePeriodSeconds":-1}`)})
	add(stormReq{cat: "query", method: "DELETE", path: "/api/v1/namespaces/storm/configmaps/absent", ctype: ctJSON, body: garbage(100)})

	// Bodies over 3 MiB: 413. Under it but over what an object may be: 4xx.
	big := func(n int) []byte {
		return []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"` + strings.Repeat("x", n) + `"}}`)
	}
	for _, m := range []struct{ method, path, ctype string }{
		{"POST", "/api/v1/namespaces/storm/configmaps", ctJSON}, {"PUT", cm, ctJSON}, {"PATCH", cm, ctMP}, {"PATCH", cm, ctSMP},
		{"POST", "/api/v1/namespaces/storm/configmaps", ctYAML}, {"POST", "/api/v1/namespaces/storm/secrets", ctPB},
	} {
		add(stormReq{cat: "oversize", method: m.method, path: m.path, ctype: m.ctype, body: big(4 << 20), want: 413, mayFail: true})
	}
	add(stormReq{cat: "oversize", method: "PATCH", path: cm, ctype: ctJP, mayFail: true, want: 413,
		body: []byte(`[{"op":"add","path":"/data/x","value":"` + strings.Repeat("x", 4<<20) + `"}]`)})
	add(stormReq{cat: "oversize", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: ctJSON, body: big(3<<20 - 200)})
	add(stormReq{cat: "oversize", method: "POST", path: "/api/v1/namespaces/storm/configmaps", ctype: ctJSON, body: big(2 << 20)})
	add(stormReq{cat: "oversize", method: "POST", path: "/api/v1/namespaces/storm/pods", ctype: ctJSON,
		body: []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge"},"spec":{"containers":[{"name":"c","image":"busybox","env":[{"name":"E","value":"` +
			strings.Repeat("e", 2800<<10) + `"}]}]}}`)})

	// Unknown paths and methods.
	for _, m := range []struct{ method, path string }{
		{"PROPFIND", "/api/v1"}, {"PROPFIND", cm}, {"TRACE", "/"}, {"TRACE", cm}, {"OPTIONS", "/api/v1/namespaces"},
		{"FOO", "/api/v1/namespaces/storm/configmaps"}, {"HEAD", cm}, {"HEAD", "/api/v1/namespaces/storm/pods?watch=1&timeoutSeconds=1"},
		{"GET", "/apis/bogus.example.com/v1/things"}, {"GET", "/api/v2"}, {"GET", "/api/v1/namespaces/storm/bogus"},
		{"GET", cm + "/bogus-subresource"}, {"PROPFIND", pod + "/status"}, {"POST", pod + "/status"}, {"GET", pod + "/log"},
		{"POST", pod + "/exec?command=sh"}, {"GET", pod + "/portforward"}, {"POST", pod + "/eviction"}, {"POST", pod + "/binding"},
		{"GET", "/api/v1/proxy/namespaces/storm/pods/target"}, {"GET", "/openapi/v3/apis/bogus/v1"}, {"GET", "/openapi/v2?timeout=abc"},
		{"GET", "/metrics?name[]=%ff"}, {"GET", "/readyz?verbose=abc&exclude=etcd&exclude=bogus"}, {"GET", "/livez/bogus"},
		{"GET", "/healthz/etcd"}, {"GET", "/%ff"}, {"GET", "////"}, {"GET", "/api/v1/namespaces/storm/configmaps/target/"},
		{"GET", "/apis/apps/v1/namespaces/storm/deployments/target/scale/extra"}, {"DELETE", "/api"}, {"PUT", "/version"},
		{"POST", "/apis"}, {"GET", "/api/v1/watch/namespaces/storm/configmaps?timeoutSeconds=1"},
		{"GET", "/apis/apps/v1/deployments/storm"}, {"GET", "/api/v1/namespaces/storm/configmaps/target/target/target"},
	} {
		add(stormReq{cat: "route", method: m.method, path: m.path, stream: strings.Contains(m.path, "watch")})
	}
	for _, ct := range []string{ctJSON, ctMP, ctSMP, ctJP} {
		m := "PATCH"
		if ct == ctJSON {
			m = "PUT"
		}
		add(stormReq{cat: "route", method: m, path: dep + "/scale?dryRun=All", ctype: ct, body: garbage(50)})
		add(stormReq{cat: "route", method: m, path: dep + "/scale?dryRun=All", ctype: ct,
			body: []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"target"},"spec":{"replicas":-99999999999}}`)})
	}
	add(stormReq{cat: "route", method: "GET", path: "/api/v1/namespaces/storm/pods?watch=1", stream: true, within: 2 * time.Second})

	// Shuffle (deterministically), so that the kinds of requests mix.
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// stormStillServes checks the server after the storm: a config map's
// whole life with client-go, a watch event, and /readyz.
func stormStillServes(t *testing.T, f *full, cs kubernetes.Interface) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cms := cs.CoreV1().ConfigMaps("storm")
	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list after the storm: %v", err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "metadata.name=after"})
	if err != nil {
		t.Fatalf("watch after the storm: %v", err)
	}
	defer w.Stop()
	created, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after"}, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create after the storm: %v", err)
	}
	select {
	case ev := <-w.ResultChan():
		if cm, ok := ev.Object.(*corev1.ConfigMap); ev.Type != watch.Added || !ok || cm.Name != "after" {
			t.Fatalf("watch after the storm: %s %+v", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("watch after the storm: no event")
	}
	got, err := cms.Get(ctx, "after", metav1.GetOptions{})
	if err != nil || got.Data["a"] != "1" || got.UID != created.UID {
		t.Fatalf("get after the storm: %v %+v", err, got)
	}
	got.Data["a"] = "2"
	updated, err := cms.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || updated.Data["a"] != "2" {
		t.Fatalf("update after the storm: %v %+v", err, updated)
	}
	list, err = cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=after"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Data["a"] != "2" {
		t.Fatalf("list after the storm: %v %+v", err, list)
	}
	if err := cms.Delete(ctx, "after", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete after the storm: %v", err)
	}
	if _, err := cms.Get(ctx, "after", metav1.GetOptions{}); err == nil {
		t.Fatal("get after the delete: still there")
	}
	hc := stormClient(f.tlsConfig(t, nil), false)
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(f.info.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz after the storm: %d %s", resp.StatusCode, body)
	}
}

func stormRESTConfig(f *full) *rest.Config {
	return &rest.Config{Host: f.info.URL, QPS: -1, TLSClientConfig: rest.TLSClientConfig{
		CAData: f.info.CAData, CertData: f.info.ClientCertData, KeyData: f.info.ClientKeyData}}
}

// stormClient is a plain client, over HTTP/2 when h2.
func stormClient(c *tls.Config, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: c, MaxIdleConnsPerHost: 8}
	if h2 {
		c.NextProtos = []string{"h2", "http/1.1"}
		tr.ForceAttemptHTTP2 = true
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// stormVmHWM is the process's peak resident set size in bytes.
func stormVmHWM(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Logf("no /proc/self/status: %v", err)
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	return 0
}

// stormFlip returns b with n random bytes replaced, inserted or removed.
func stormFlip(rng *rand.Rand, b []byte, n int) []byte {
	out := slices.Clone(b)
	for range n {
		if len(out) == 0 {
			break
		}
		i := rng.IntN(len(out))
		switch rng.IntN(3) {
		case 0:
			out[i] = byte(rng.UintN(256))
		case 1:
			out = slices.Insert(out, i, byte(rng.UintN(256)))
		default:
			out = slices.Delete(out, i, i+1)
		}
	}
	return out
}

func stormKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func stormTrim(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// stormLog is a log sink safe for concurrent writes.
type stormLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *stormLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *stormLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
