package admission_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A mutating webhook adds a label to config maps of namespaces labelled
// env=test: the stored object has it, the client gets its warning, and
// other namespaces are untouched.
func TestMutatingWebhook(t *testing.T) {
	cs, warns := start(t)
	ctx := t.Context()
	wh := newWebhookServer(t)
	namespace(t, cs, "adm", map[string]string{"env": "test"})
	namespace(t, cs, "other", nil)
	_, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "label"},
		Webhooks: []admissionregv1.MutatingWebhook{{Name: "label.example.com", ClientConfig: wh.clientConfig("/mutate"),
			Rules: rules("configmaps", admissionregv1.Create), SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "test"}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the webhook mutates", func() error {
		cm, err := cs.CoreV1().ConfigMaps("adm").Create(ctx, configMap("probe", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if cm.Labels["admitted"] != "yes" {
			return errors.New("not mutated yet")
		}
		return nil
	})
	if _, err := cs.CoreV1().ConfigMaps("adm").Create(ctx, configMap("a", map[string]string{"app": "x"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().ConfigMaps("adm").Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["admitted"] != "yes" || got.Labels["app"] != "x" {
		t.Errorf("stored labels %v, want admitted=yes and app=x", got.Labels)
	}
	if !warns.has("mutated by the test") {
		t.Errorf("no warning from the webhook: %v", warns.msgs)
	}
	// The request for a (a controller may create the namespace's
	// kube-root-ca.crt at any moment, which the rule matches too).
	var last *admissionv1.AdmissionRequest
	wh.mu.Lock()
	for _, r := range wh.reqs {
		if r.Name == "a" {
			last = r
		}
	}
	wh.mu.Unlock()
	if last == nil {
		t.Fatal("the webhook was not called for a")
	}
	if last.Operation != "CREATE" || last.Namespace != "adm" || last.Name != "a" || last.Kind.Kind != "ConfigMap" ||
		last.Resource.Resource != "configmaps" || last.UserInfo.Username == "" || last.DryRun == nil || *last.DryRun {
		t.Errorf("admission request: %+v", last)
	}
	if !strings.Contains(string(last.Options.Raw), `"kind":"CreateOptions"`) {
		t.Errorf("options %s", last.Options.Raw)
	}
	other, err := cs.CoreV1().ConfigMaps("other").Create(ctx, configMap("b", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Labels["admitted"] != "" {
		t.Errorf("a config map of another namespace was mutated: %v", other.Labels)
	}
	// An update is not in the rules: no call. (The namespace's
	// kube-root-ca.crt, created by a controller at any moment, is.)
	got.Data = map[string]string{"k": "v"}
	if _, err := cs.CoreV1().ConfigMaps("adm").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wh.mu.Lock()
	for _, r := range wh.reqs {
		if r.Operation != "CREATE" {
			t.Errorf("the webhook was called on an %s of %s", r.Operation, r.Name)
		}
	}
	wh.mu.Unlock()
}

// A validating webhook denies with upstream's message; one that cannot be
// reached is ignored with failurePolicy Ignore and fails the request with
// Fail.
func TestValidatingWebhooks(t *testing.T) {
	cs, _ := start(t)
	ctx := t.Context()
	wh := newWebhookServer(t)
	dead := "https://127.0.0.1:1/dead"
	_, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "checks"},
		Webhooks: []admissionregv1.ValidatingWebhook{
			{Name: "deny.example.com", ClientConfig: wh.clientConfig("/deny"), Rules: rules("configmaps", admissionregv1.Create, admissionregv1.Delete),
				SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"deny": "yes"}}},
			{Name: "deny-exec.example.com", ClientConfig: wh.clientConfig("/deny"), SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
				Rules: []admissionregv1.RuleWithOperations{{Operations: []admissionregv1.OperationType{admissionregv1.Connect},
					Rule: admissionregv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods/exec"}}}}},
			{Name: "dead-ignored.example.com", ClientConfig: admissionregv1.WebhookClientConfig{URL: &dead, CABundle: wh.caPEM},
				Rules: rules("secrets", admissionregv1.OperationAll), FailurePolicy: &ignore, SideEffects: &none, AdmissionReviewVersions: []string{"v1"}},
			{Name: "dead-failing.example.com", ClientConfig: admissionregv1.WebhookClientConfig{URL: &dead, CABundle: wh.caPEM},
				Rules: rules("services", admissionregv1.Create), FailurePolicy: &fail, SideEffects: &none, AdmissionReviewVersions: []string{"v1"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var denied error
	eventually(t, "the webhook denies", func() error {
		_, denied = cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("denied", map[string]string{"deny": "yes"}), metav1.CreateOptions{})
		if denied == nil {
			_ = cs.CoreV1().ConfigMaps("default").Delete(ctx, "denied", metav1.DeleteOptions{})
			return errors.New("not denied yet")
		}
		return nil
	})
	if want := `admission webhook "deny.example.com" denied the request: no thanks`; denied.Error() != want {
		t.Errorf("denied: %q, want %q", denied.Error(), want)
	}
	if code := apiStatus(denied).Code; code != http.StatusForbidden {
		t.Errorf("code %d, want 403", code)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("fine", nil), metav1.CreateOptions{}); err != nil {
		t.Errorf("a config map the selector does not select: %v", err)
	}
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("failurePolicy Ignore: %v", err)
	}
	_, err = cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "svc"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), `failed calling webhook "dead-failing.example.com": failed to call webhook: Post "https://127.0.0.1:1/dead?timeout=10s"`) {
		t.Errorf("failurePolicy Fail: %v", err)
	}
	// A connection is admitted with its options as the object.
	err = cs.CoreV1().RESTClient().Post().Namespace("default").Resource("pods").Name("p").SubResource("exec").
		Param("command", "ls").Param("stdout", "true").Do(ctx).Error()
	if err == nil || !strings.Contains(err.Error(), `admission webhook "deny-exec.example.com" denied the request: no thanks`) {
		t.Errorf("exec: %v", err)
	}
	wh.mu.Lock()
	last := wh.reqs[len(wh.reqs)-1]
	wh.mu.Unlock()
	if last.Operation != "CONNECT" || last.SubResource != "exec" || last.Kind.Kind != "PodExecOptions" || !strings.Contains(string(last.Object.Raw), `"command":["ls"]`) {
		t.Errorf("exec admission request: %+v %s", last, last.Object.Raw)
	}
	// A delete of a selected object is denied too (the old object matches).
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("del", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, _ := cs.CoreV1().ConfigMaps("default").Get(ctx, "del", metav1.GetOptions{})
	cm.Labels = map[string]string{"deny": "yes"}
	if _, err := cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ConfigMaps("default").Delete(ctx, "del", metav1.DeleteOptions{}); err == nil || !strings.Contains(err.Error(), "no thanks") {
		t.Errorf("delete: %v", err)
	}
}

func apiStatus(err error) metav1.Status {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return st.Status()
	}
	return metav1.Status{}
}
