package codec

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// fixtureDir holds values a real kube-apiserver v1.37.2 wrote (see its README).
const fixtureDir = "testdata/kube-apiserver-v1.37.2"

// fixture is one object of fixtureDir.
type fixture struct {
	name string // "pod"
	key  string // the etcd key it was stored under
	bin  []byte // the raw etcd value (protobuf)
	get  []byte // the object as the API returned it (JSON)
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	bins, err := filepath.Glob(filepath.Join(fixtureDir, "*.etcd.bin"))
	if err != nil || len(bins) == 0 {
		t.Fatalf("no fixtures in %s (err %v)", fixtureDir, err)
	}
	var out []fixture
	for _, bin := range bins {
		base := strings.TrimSuffix(bin, ".etcd.bin")
		f := fixture{name: filepath.Base(base), bin: readFile(t, bin), get: readFile(t, base+".get.json")}
		f.key = strings.TrimSpace(string(readFile(t, base+".key")))
		out = append(out, f)
	}
	return out
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFixturesProtobufRoundTrip checks the storage codec against what
// kube-apiserver wrote: every value decodes, into nil and into a typed
// object, and encoding the result again gives the very same bytes.
func TestFixturesProtobufRoundTrip(t *testing.T) {
	for _, f := range loadFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			c := storageCodecFor(t, MediaTypeProtobuf, f.bin)

			obj, err := runtime.Decode(c, f.bin)
			if err != nil {
				t.Fatalf("decode %s: %v", f.key, err)
			}
			if got := encode(t, c, obj); !bytes.Equal(got, f.bin) {
				t.Errorf("re-encoding %s (into=nil) changed the bytes:\n got % x\nwant % x", f.key, got, f.bin)
			}

			into := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
			typed, _, err := c.Decode(f.bin, nil, into)
			if err != nil {
				t.Fatalf("decode %s into %T: %v", f.key, into, err)
			}
			if typed != into {
				t.Errorf("decode into %T returned another object (%T)", into, typed)
			}
			if !apiequality.Semantic.DeepEqual(typed, obj) {
				t.Errorf("decode into %T differs from decode into nil:\n%s", into, cmp.Diff(obj, typed))
			}
			if got := encode(t, c, typed); !bytes.Equal(got, f.bin) {
				t.Errorf("re-encoding %s (typed) changed the bytes:\n got % x\nwant % x", f.key, got, f.bin)
			}
		})
	}
}

// TestFixturesMatchAPI checks that the decoded etcd value is the object the
// API served, but for resourceVersion, which is never stored, and
// managedFields, which kubectl get leaves out.
func TestFixturesMatchAPI(t *testing.T) {
	for _, f := range loadFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			c := storageCodecFor(t, MediaTypeProtobuf, f.bin)
			stored, err := runtime.Decode(c, f.bin)
			if err != nil {
				t.Fatalf("decode %s: %v", f.key, err)
			}
			served, err := runtime.Decode(c, f.get)
			if err != nil {
				t.Fatalf("decode %s.get.json: %v", f.name, err)
			}
			accessor, err := meta.Accessor(stored)
			if err != nil {
				t.Fatal(err)
			}
			if rv := accessor.GetResourceVersion(); rv != "" {
				t.Errorf("stored %s has resourceVersion %q, want none", f.key, rv)
			}
			servedMeta, err := meta.Accessor(served)
			if err != nil {
				t.Fatal(err)
			}
			servedMeta.SetResourceVersion("")
			accessor.SetManagedFields(nil)
			applyReadDefaults(stored)
			if !apiequality.Semantic.DeepEqual(stored, served) {
				t.Errorf("stored %s differs from the served object (-stored +served):\n%s", f.key, cmp.Diff(stored, served))
			}
		})
	}
}

// applyReadDefaults applies the defaults kube-apiserver's decoder applied
// when it read the fixtures back (its storage codec runs the scheme's
// defaulting functions from k8s.io/kubernetes, which regis does not have, so
// the codec does not). Only the defaults these fixtures exercise are here; the
// registry is where regis must apply them.
func applyReadDefaults(obj runtime.Object) {
	switch o := obj.(type) {
	case *batchv1.Job:
		// SetDefaults_Job: a Job without labels takes its pod template's,
		// which the registry filled in (controller-uid, job-name) after the
		// create request was defaulted.
		if len(o.Labels) == 0 {
			o.Labels = o.Spec.Template.Labels
		}
	}
}

// storageCodecFor returns the codec of the storage version data was written
// at, as the registry would pick it.
func storageCodecFor(t testing.TB, mediaType string, data []byte) runtime.Codec {
	t.Helper()
	_, gvk, err := Deserializer().Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("deserialize: %v", err)
	}
	c, err := New(mediaType, gvk.GroupVersion())
	if err != nil {
		t.Fatalf("New(%q, %v): %v", mediaType, gvk.GroupVersion(), err)
	}
	return c
}

func encode(t testing.TB, e runtime.Encoder, obj runtime.Object) []byte {
	t.Helper()
	b, err := runtime.Encode(e, obj)
	if err != nil {
		t.Fatalf("encode %T: %v", obj, err)
	}
	return b
}
