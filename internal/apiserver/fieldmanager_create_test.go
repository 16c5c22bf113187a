package apiserver

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/crd"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage"
)

// The fast path of a create's managedFields (createTracker) is checked
// against what it replaces: apimachinery's FieldManager.UpdateNoErrors
// of the row's empty object and the new one, on the same object, the
// entries' times made equal. Every object's result is compared byte for
// byte, managedFields and the rest; the objects the fast path leaves to
// UpdateNoErrors are compared too.

// trackRegistry is a registry of the built-in rows and a custom
// resource's, without storage: the field managers need none.
func trackRegistry(tb testing.TB) *registry.Registry {
	tb.Helper()
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: func(*registry.Resource) (storage.Interface, error) { return nil, nil }})
	if err != nil {
		tb.Fatal(err)
	}
	var c apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict([]byte(trackCRD), &c); err != nil {
		tb.Fatal(err)
	}
	_, row, err := crd.Rows(&c, crd.WebhookOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := reg.Add(row, nil); err != nil {
		tb.Fatal(err)
	}
	return reg
}

const trackCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: fleets.track.example.com}
spec:
  group: track.example.com
  scope: Namespaced
  names: {plural: fleets, singular: fleet, kind: Fleet, listKind: FleetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              name: {type: string}
              port: {x-kubernetes-int-or-string: true}
              labels: {type: object, additionalProperties: {type: string}}
              tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}
              args: {type: array, items: {type: string}}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    number: {type: integer}
              selector:
                type: object
                x-kubernetes-map-type: atomic
                properties: {app: {type: string}, tier: {type: string}}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              ready: {type: boolean}
              count: {type: integer}
status:
  acceptedNames: {plural: fleets, singular: fleet, kind: Fleet, listKind: FleetList}
`

// trackSlow is trackUpdate of a create without the fast path.
func trackSlow(st *registry.Store, obj runtime.Object, manager string) runtime.Object {
	fm, err := fieldManager(st, "")
	if err != nil {
		return obj
	}
	if d := st.Resource().Default; d != nil {
		d(obj)
	}
	gvk := st.Resource().GroupVersionKind()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	live := st.New()
	live.GetObjectKind().SetGroupVersionKind(gvk)
	return fm.UpdateNoErrors(live, obj, manager)
}

// trackFast is the fast path alone: false where it leaves the create to
// UpdateNoErrors.
func trackFast(st *registry.Store, obj runtime.Object, manager string) bool {
	if d := st.Resource().Default; d != nil {
		d(obj)
	}
	obj.GetObjectKind().SetGroupVersionKind(st.Resource().GroupVersionKind())
	ct := createTrackerOf(st)
	return ct != nil && ct.track(obj, manager)
}

// sameTimes sets every entry's time to one instant.
func sameTimes(t *testing.T, obj runtime.Object) []metav1.ManagedFieldsEntry {
	acc, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	mf := acc.GetManagedFields()
	at := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for i := range mf {
		if mf[i].Time != nil {
			if d := time.Since(mf[i].Time.Time); d < -time.Second || d > time.Minute {
				t.Errorf("entry %d: time %v, not now", i, mf[i].Time)
			}
			mf[i].Time = &at
		}
	}
	acc.SetManagedFields(mf)
	return mf
}

// sameFieldsV1 checks that two objects' entries have the same FieldsV1
// bytes (json.Marshal would compact and escape them).
func sameFieldsV1(t *testing.T, want, got []metav1.ManagedFieldsEntry) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		var w, g []byte
		if want[i].FieldsV1 != nil {
			w = want[i].FieldsV1.Raw
		}
		if got[i].FieldsV1 != nil {
			g = got[i].FieldsV1.Raw
		}
		if !bytes.Equal(w, g) {
			t.Fatalf("entry %d: FieldsV1 differ:\nUpdateNoErrors: %s\nfast path:      %s", i, w, g)
		}
	}
}

type trackCase struct {
	name     string
	resource schema.GroupVersionResource
	obj      runtime.Object
	manager  string
	fast     bool // the fast path takes it
	none     bool // no field is managed
}

func TestCreateManagedFieldsSameAsUpdateNoErrors(t *testing.T) {
	reg := trackRegistry(t)
	fast := 0
	for _, c := range trackCases(t) {
		t.Run(c.name, func(t *testing.T) {
			st, ok := reg.Lookup(c.resource)
			if !ok {
				t.Fatalf("no row %v", c.resource)
			}
			slowObj := trackSlow(st, c.obj.DeepCopyObject(), c.manager)
			fastObj := c.obj.DeepCopyObject()
			took := trackFast(st, fastObj, c.manager)
			if !took {
				fastObj = trackUpdate(st, "", nil, c.obj.DeepCopyObject(), c.manager)
			} else {
				fast++
			}
			if took != c.fast {
				t.Errorf("fast path taken: %v, want %v", took, c.fast)
			}
			want, got := sameTimes(t, slowObj), sameTimes(t, fastObj)
			sameFieldsV1(t, want, got)
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got)
			if !bytes.Equal(wantJSON, gotJSON) {
				t.Fatalf("managedFields differ:\nUpdateNoErrors: %s\nfast path:      %s", wantJSON, gotJSON)
			}
			wantObj, _ := json.Marshal(slowObj)
			gotObj, _ := json.Marshal(fastObj)
			if !bytes.Equal(wantObj, gotObj) {
				t.Fatalf("objects differ:\nUpdateNoErrors: %s\nfast path:      %s", wantObj, gotObj)
			}
			if len(want) == 0 && !c.none {
				t.Errorf("no managedFields: %s", wantObj)
			}
		})
	}
	t.Logf("%d objects on the fast path", fast)
}

func gvr(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

var (
	podsGVR  = gvr("", "v1", "pods")
	fleetGVR = gvr("track.example.com", "v1", "fleets")
)

func fleet(t *testing.T, js string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(js), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetAPIVersion("track.example.com/v1")
	u.SetKind("Fleet")
	return u
}
