package apiserver_test

import (
	"bytes"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func testPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func TestClientGoCRUD(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()

	// Discovery, as kubectl does first.
	if _, err := cs.Discovery().ServerGroups(); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if _, rs, err := cs.Discovery().ServerGroupsAndResources(); err != nil || len(rs) == 0 {
		t.Fatalf("discovery resources: %v (%d lists)", err, len(rs))
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil || v.GitVersion == "" {
		t.Fatalf("version: %v %v", v, err)
	}

	pods := cs.CoreV1().Pods("default")
	created, err := pods.Create(ctx, testPod("p1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.Status.Phase != corev1.PodPending {
		t.Fatalf("create returned %+v", created.ObjectMeta)
	}
	got, err := pods.Get(ctx, "p1", metav1.GetOptions{})
	if err != nil || got.UID != created.UID {
		t.Fatalf("get: %v %v", got, err)
	}
	got.Labels["tier"] = "front"
	updated, err := pods.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || updated.Labels["tier"] != "front" || updated.ResourceVersion == got.ResourceVersion {
		t.Fatalf("update: %v %v", updated, err)
	}
	got.Status.Phase = corev1.PodRunning
	got.ResourceVersion = updated.ResourceVersion
	st, err := pods.UpdateStatus(ctx, got, metav1.UpdateOptions{})
	if err != nil || st.Status.Phase != corev1.PodRunning {
		t.Fatalf("update status: %v %v", st, err)
	}
	patched, err := pods.Patch(ctx, "p1", types.MergePatchType, []byte(`{"metadata":{"labels":{"m":"1"}}}`), metav1.PatchOptions{})
	if err != nil || patched.Labels["m"] != "1" || patched.Status.Phase != corev1.PodRunning {
		t.Fatalf("merge patch: %v %v", patched, err)
	}
	patched, err = pods.Patch(ctx, "p1", types.StrategicMergePatchType, []byte(`{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}`), metav1.PatchOptions{})
	if err != nil || patched.Spec.Containers[0].Image != "busybox:2" || len(patched.Spec.Containers) != 1 {
		t.Fatalf("strategic patch: %v %v", patched, err)
	}
	patched, err = pods.Patch(ctx, "p1", types.JSONPatchType, []byte(`[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]`), metav1.PatchOptions{})
	if err != nil || patched.Annotations["a"] != "b" {
		t.Fatalf("json patch: %v %v", patched, err)
	}
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := pods.Delete(ctx, "p1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := pods.Get(ctx, "p1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}

	// A deployment and its scale subresource.
	deps := cs.AppsV1().Deployments("default")
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d1"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}},
		},
	}
	if d, err = deps.Create(ctx, d, metav1.CreateOptions{}); err != nil || *d.Spec.Replicas != 1 || d.Generation != 1 {
		t.Fatalf("create deployment: %v %v", d, err)
	}
	sc, err := deps.GetScale(ctx, "d1", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 || sc.Status.Selector != "app=d" {
		t.Fatalf("get scale: %v %v", sc, err)
	}
	sc.Spec.Replicas = 3
	if sc, err = deps.UpdateScale(ctx, "d1", sc, metav1.UpdateOptions{}); err != nil || sc.Spec.Replicas != 3 {
		t.Fatalf("update scale: %v %v", sc, err)
	}
	if d, err = deps.Get(ctx, "d1", metav1.GetOptions{}); err != nil || *d.Spec.Replicas != 3 || d.Generation != 2 {
		t.Fatalf("deployment after scale: %v %v", d, err)
	}
}

func TestErrorsAreStatuses(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	cms := cs.CoreV1().ConfigMaps("default")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}, Data: map[string]string{"a": "b"}}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	_, err := cms.Get(ctx, "missing", metav1.GetOptions{})
	expectStatus(t, "404", err, 404, metav1.StatusReasonNotFound, `configmaps "missing" not found`)

	_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	expectStatus(t, "409 exists", err, 409, metav1.StatusReasonAlreadyExists, `configmaps "cm" already exists`)

	stale := cm.DeepCopy()
	stale.ResourceVersion = "1"
	_, err = cms.Update(ctx, stale, metav1.UpdateOptions{})
	expectStatus(t, "409 conflict", err, 409, metav1.StatusReasonConflict,
		`Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your changes to the latest version and try again`)

	_, err = cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bad"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 70000}}}}}}, metav1.CreateOptions{})
	expectStatus(t, "422", err, 422, metav1.StatusReasonInvalid,
		`Pod "bad" is invalid: [spec.containers[0].image: Required value, spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive]`)
	if se := (*apierrors.StatusError)(nil); apierrors.IsInvalid(err) {
		_ = se
		causes := err.(apierrors.APIStatus).Status().Details.Causes
		if len(causes) != 2 || causes[0].Field != "spec.containers[0].image" || causes[0].Type != metav1.CauseTypeFieldValueRequired {
			t.Errorf("422 causes: %+v", causes)
		}
	}

	_, err = cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchExact, Limit: 1})
	if err != nil && !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Logf("exact list at 1: %v", err)
	}

	big := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "big"}, Data: map[string]string{"a": strings.Repeat("x", 4<<20)}}
	_, err = cms.Create(ctx, big, metav1.CreateOptions{})
	expectStatus(t, "413", err, 413, metav1.StatusReasonRequestEntityTooLarge, "Request entity too large: limit is 3145728")

	_, err = cs.CoreV1().Pods("missing-ns").Create(ctx, testPod("p"), metav1.CreateOptions{})
	expectStatus(t, "namespace 404", err, 404, metav1.StatusReasonNotFound, `namespaces "missing-ns" not found`)
	_ = bytes.MinRead
}

func expectStatus(t *testing.T, what string, err error, code int32, reason metav1.StatusReason, msg string) {
	t.Helper()
	var s apierrors.APIStatus
	ok := false
	if err != nil {
		s, ok = err.(apierrors.APIStatus)
	}
	if !ok {
		t.Errorf("%s: got %v, want a Status error", what, err)
		return
	}
	st := s.Status()
	if st.Code != code || st.Reason != reason || (msg != "" && st.Message != msg) {
		t.Errorf("%s: got %d %s %q, want %d %s %q", what, st.Code, st.Reason, st.Message, code, reason, msg)
	}
}
