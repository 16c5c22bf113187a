package apiserver

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// TestCreateWalkOnGoValues checks the walk on Go values (rwalk) against
// the walk on structured-merge-diff's value view of the same object (walk):
// the same FieldsV1, and a give-up on the same objects, on random objects of
// every built-in row.
func TestCreateWalkOnGoValues(t *testing.T) {
	reg := trackRegistry(t)
	r := rand.New(rand.NewPCG(9, 16))
	perRow := 40
	if testing.Short() {
		perRow = 5
	}
	total, through := 0, 0
	for _, st := range reg.Stores() {
		if _, ok := st.New().(*unstructured.Unstructured); ok {
			continue
		}
		ct := createTrackerOf(st)
		if ct == nil {
			continue
		}
		for i := range perRow {
			obj := st.New()
			fillRandom(r, reflect.ValueOf(obj).Elem(), 0)
			if !defaults(st.Resource().Default, obj) {
				continue
			}
			if d := st.Resource().Default; d != nil {
				d(obj)
			}
			versioned, err := ct.conv.ConvertToVersion(obj, ct.gv)
			if err != nil {
				continue
			}
			total++
			want, wantOK := ct.walkValue(t, versioned)
			wr := ct.walker(ct.reset, stripSet)
			gotOK := wr.rwalk(ct.typeRef, ct.live, reflect.ValueOf(versioned))
			var got []byte
			if gotOK {
				got, gotOK = wr.fieldsV1()
			}
			ct.release(wr)
			body, _ := json.Marshal(obj)
			if gotOK != wantOK {
				t.Fatalf("%s %d: the walk on Go values went through: %v, on the value view: %v\nobject: %s", st.Resource().GroupVersionResource(), i, gotOK, wantOK, body)
			}
			if !gotOK {
				continue
			}
			through++
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %d: FieldsV1 differ:\nvalue view: %s\nGo values:  %s\nobject: %s", st.Resource().GroupVersionResource(), i, want, got, body)
			}
		}
	}
	t.Logf("%d random objects, %d walked through", total, through)
}

// walkValue is the FieldsV1 the walk on the value view of an object
// writes.
func (c *createTracker) walkValue(t *testing.T, obj any) ([]byte, bool) {
	v, err := value.NewValueReflect(obj)
	if err != nil {
		t.Fatal(err)
	}
	w := c.walker(c.reset, stripSet)
	defer c.release(w)
	if !w.walk(c.typeRef, c.live, v) {
		return nil, false
	}
	return w.fieldsV1()
}
