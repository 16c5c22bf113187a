package admission_test

import (
	"errors"
	"net"
	"testing"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A webhook named by a service is reached through the service's
// EndpointSlices, its certificate checked for <service>.<namespace>.svc;
// a webhook with reinvocationPolicy IfNeeded is called again after a
// later webhook changed the object; a webhook slower than its
// timeoutSeconds is given up (failurePolicy Ignore); matchConditions
// select what a webhook sees.
func TestWebhookServiceReinvocationTimeout(t *testing.T) {
	cs, _ := start(t)
	ctx := t.Context()
	wh := newWebhookServer(t)
	namespace(t, cs, "adm", nil)
	ip := hostIP()
	if ip == "" {
		t.Skip("no non-loopback address for an EndpointSlice")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skip(err)
	}
	svcHook := newWebhookServerOn(t, ln)
	port := ln.Addr().(*net.TCPAddr).Port
	if _, err := cs.CoreV1().Services("adm").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hook"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ready := true
	if _, err := cs.DiscoveryV1().EndpointSlices("adm").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "hook-1", Labels: map[string]string{discoveryv1.LabelServiceName: "hook"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("https"), Port: ptr(int32(port)), Protocol: ptr(corev1.ProtocolTCP)}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ifNeeded := admissionregv1.IfNeededReinvocationPolicy
	secondPath := "/second"
	timeout := int32(1)
	onlyX := []admissionregv1.MatchCondition{{Name: "x", Expression: `object.metadata.name.startsWith("x")`}}
	_, err = cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "a-first"},
		Webhooks: []admissionregv1.MutatingWebhook{{Name: "first.example.com", ClientConfig: wh.clientConfig("/first"),
			Rules: rules("configmaps", admissionregv1.Create), SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
			ReinvocationPolicy: &ifNeeded, MatchConditions: onlyX}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "b-second"},
		Webhooks: []admissionregv1.MutatingWebhook{
			{Name: "second.example.com", SideEffects: &none, AdmissionReviewVersions: []string{"v1"}, MatchConditions: onlyX,
				ClientConfig: admissionregv1.WebhookClientConfig{CABundle: svcHook.caPEM,
					Service: &admissionregv1.ServiceReference{Namespace: "adm", Name: "hook", Path: &secondPath, Port: ptr(int32(443))}},
				Rules: rules("configmaps", admissionregv1.Create)},
			{Name: "slow.example.com", ClientConfig: wh.clientConfig("/slow"), Rules: rules("secrets", admissionregv1.Create),
				SideEffects: &none, AdmissionReviewVersions: []string{"v1"}, FailurePolicy: &ignore, TimeoutSeconds: &timeout},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got *corev1.ConfigMap
	eventually(t, "both webhooks mutate", func() error {
		got, err = cs.CoreV1().ConfigMaps("adm").Create(ctx, configMap("x-probe", map[string]string{"app": "x"}), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if got.Labels["second"] != "yes" || got.Labels["first"] == "" {
			return errors.New("not both yet")
		}
		return nil
	})
	if svcHook.count() == 0 {
		t.Errorf("the service's webhook server was never called")
	}
	if got.Labels["first"] != "yes" {
		t.Errorf("first webhook not reinvoked after the second's change: labels %v", got.Labels)
	}
	plain, err := cs.CoreV1().ConfigMaps("adm").Create(ctx, configMap("plain", map[string]string{"app": "x"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Labels) != 1 {
		t.Errorf("matchConditions: an object they exclude was mutated: %v", plain.Labels)
	}
	start := time.Now()
	if _, err := cs.CoreV1().Secrets("adm").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("slow webhook ignored: %v", err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("the create waited %v for a webhook with timeoutSeconds 1", d)
	}
}
