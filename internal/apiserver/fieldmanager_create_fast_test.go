package apiserver

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// walkGo is the FieldsV1 the walk on Go values writes of an object
// defaulted as trackUpdate defaults it, with the compiled walk or
// without (rwalk alone).
func (c *createTracker) walkGo(obj runtime.Object, compiled bool) ([]byte, bool) {
	versioned, err := c.conv.ConvertToVersion(obj, c.gv)
	if err != nil {
		return nil, false
	}
	w := c.walker(c.reset, stripSet)
	defer c.release(w)
	if !compiled {
		w.fast = nil
	}
	if !w.rwalk(c.typeRef, c.live, reflect.ValueOf(versioned)) {
		return nil, false
	}
	return w.fieldsV1()
}

// TestCreateCompiledWalk checks the compiled walk against rwalk alone on
// random objects of every built-in row, strings from nastyWords: the
// same FieldsV1, and a give-up on the same objects.
func TestCreateCompiledWalk(t *testing.T) {
	reg := trackRegistry(t)
	r := rand.New(rand.NewPCG(11, 16))
	perRow := 16
	if testing.Short() {
		perRow = 4
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
			fillRandomWords(r, reflect.ValueOf(obj).Elem(), 0, nastyWords)
			if !defaults(st.Resource().Default, obj) {
				continue
			}
			if d := st.Resource().Default; d != nil {
				d(obj)
			}
			total++
			want, wantOK := ct.walkGo(obj, false)
			got, gotOK := ct.walkGo(obj, true)
			if gotOK != wantOK || !bytes.Equal(got, want) {
				body, _ := json.Marshal(obj)
				t.Fatalf("%s %d: rwalk %v %s\ncompiled %v %s\nobject: %s", st.Resource().GroupVersionResource(), i, wantOK, want, gotOK, got, body)
			}
			if gotOK {
				through++
			}
		}
	}
	t.Logf("%d random objects, %d walked through", total, through)
}

// fuzzPod is bigPod with a and b in its maps, sets and list keys, n in
// its ports, some of it left out by bits of flags.
func fuzzPod(a, b string, n int32, flags uint8) *corev1.Pod {
	p := bigPod()
	p.Labels[a] = b
	p.Annotations[b] = a
	p.Finalizers = append(p.Finalizers, a, b)
	c := &p.Spec.Containers[0]
	c.Name = a
	p.Spec.Containers[1].Name = b
	proto := corev1.Protocol(b)
	if flags&1 != 0 {
		proto = ""
	}
	c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: n, Protocol: proto, Name: a})
	c.Env = append(c.Env, corev1.EnvVar{Name: a, Value: b})
	c.SecurityContext.Capabilities.Drop = append(c.SecurityContext.Capabilities.Drop, corev1.Capability(a))
	if flags&2 != 0 {
		c.Resources.Limits[corev1.ResourceName(a)] = c.Resources.Limits["cpu"]
	}
	if flags&4 != 0 {
		p.Spec.NodeSelector[b] = a
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: a, Value: b, Operator: corev1.TolerationOperator(b)})
	}
	if flags&8 != 0 {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: a, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: b}}})
		p.Spec.HostAliases = append(p.Spec.HostAliases, corev1.HostAlias{IP: b, Hostnames: []string{a, b}})
	}
	if flags&16 != 0 {
		p.Spec.Containers = p.Spec.Containers[:1]
		p.Spec.InitContainers = nil
		p.Spec.EphemeralContainers = nil
	}
	if flags&32 != 0 {
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{UID: "u-1", Name: a})
	}
	if flags&64 != 0 {
		p.Spec.ReadinessGates = append(p.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: corev1.PodConditionType(a)})
		p.Spec.SecurityContext.Sysctls = append(p.Spec.SecurityContext.Sysctls, corev1.Sysctl{Name: b, Value: a})
	}
	return p
}

// FuzzCreateCompiledWalk checks a pod's managedFields from the compiled
// walk against rwalk alone and against UpdateNoErrors:
//
//	go test ./internal/apiserver -run '^$' -fuzz FuzzCreateCompiledWalk -fuzztime 2m
func FuzzCreateCompiledWalk(f *testing.F) {
	for i, w := range nastyWords {
		f.Add(w, nastyWords[(i+5)%len(nastyWords)], int32(i*37-100), uint8(i*13))
	}
	reg := trackRegistry(f)
	st, ok := reg.Lookup(podsGVR)
	if !ok {
		f.Fatal("no pods")
	}
	ct := createTrackerOf(st)
	f.Fuzz(func(t *testing.T, a, b string, n int32, flags uint8) {
		pod := fuzzPod(a, b, n, flags)
		if !defaults(st.Resource().Default, pod) {
			return
		}
		obj := pod.DeepCopy()
		st.Resource().Default(obj)
		want, wantOK := ct.walkGo(obj, false)
		got, gotOK := ct.walkGo(obj, true)
		if gotOK != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("a %q b %q n %d flags %d: rwalk %v %s\ncompiled %v %s", a, b, n, flags, wantOK, want, gotOK, got)
		}
		slow := trackSlow(st, pod.DeepCopy(), "m")
		fast := pod.DeepCopy()
		if !trackFast(st, fast, "m") {
			return
		}
		sameFieldsV1(t, sameTimes(t, slow), sameTimes(t, fast))
	})
}

// BenchmarkCreateFieldsV1 is the walk alone of a create's managedFields
// (the object defaulted once), compiled and not:
//
//	go test ./internal/apiserver -run '^$' -bench CreateFieldsV1 -benchmem -count 5
func BenchmarkCreateFieldsV1(b *testing.B) {
	reg := trackRegistry(b)
	st, ok := reg.Lookup(podsGVR)
	if !ok {
		b.Fatal("no pods")
	}
	ct := createTrackerOf(st)
	small := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	for _, c := range []struct {
		name string
		obj  *corev1.Pod
	}{{"pod-small", small}, {"pod-big", bigPod()}} {
		st.Resource().Default(c.obj)
		for _, compiled := range []bool{true, false} {
			name := c.name + "/reflect"
			if compiled {
				name = c.name + "/compiled"
			}
			if _, ok := ct.walkGo(c.obj, compiled); !ok {
				b.Fatalf("%s: the walk gives up", name)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				before := processCPU(b)
				for b.Loop() {
					ct.walkGo(c.obj, compiled)
				}
				b.ReportMetric(float64((processCPU(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
