package builtin_test

import (
	"bytes"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// TestGroupsStorage creates one object of each resource of the groups
// beyond core, apps and batch, and checks that it is stored under
// kube-apiserver's key, at its storage version (reference §3.3), and that
// ParseKey finds the resource and scope back from the key.
func TestGroupsStorage(t *testing.T) {
	reg := newRegistry(t)
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
	nsm := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: "default"} }
	ref := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	for _, c := range []struct {
		gvr     schema.GroupVersionResource
		obj     runtime.Object
		key     string // under the etcd prefix
		version string // stored apiVersion
	}{
		{schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
			&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: nsm("hpa2"), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 3}},
			"/horizontalpodautoscalers/default/hpa2", "autoscaling/v2"},
		{schema.GroupVersionResource{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers"},
			&autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: nsm("hpa1"), Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(ref), MaxReplicas: 3}},
			"/horizontalpodautoscalers/default/hpa1", "autoscaling/v2"},
		{admissionGVR("validatingwebhookconfigurations"), &admissionv1.ValidatingWebhookConfiguration{ObjectMeta: om("vwc")},
			"/validatingwebhookconfigurations/vwc", "admissionregistration.k8s.io/v1"},
		{admissionGVR("mutatingwebhookconfigurations"), &admissionv1.MutatingWebhookConfiguration{ObjectMeta: om("mwc")},
			"/mutatingwebhookconfigurations/mwc", "admissionregistration.k8s.io/v1"},
		{admissionGVR("validatingadmissionpolicies"), &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: om("vap")},
			"/validatingadmissionpolicies/vap", "admissionregistration.k8s.io/v1"},
		{admissionGVR("validatingadmissionpolicybindings"), &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: om("vapb")},
			"/validatingadmissionpolicybindings/vapb", "admissionregistration.k8s.io/v1"},
		{admissionGVR("mutatingadmissionpolicies"), &admissionv1.MutatingAdmissionPolicy{ObjectMeta: om("map")},
			"/mutatingadmissionpolicies/map", "admissionregistration.k8s.io/v1"},
		{admissionGVR("mutatingadmissionpolicybindings"), &admissionv1.MutatingAdmissionPolicyBinding{ObjectMeta: om("mapb")},
			"/mutatingadmissionpolicybindings/mapb", "admissionregistration.k8s.io/v1"},
		{schema.GroupVersionResource{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"},
			&certificatesv1.CertificateSigningRequest{ObjectMeta: om("csr"), Spec: certificatesv1.CertificateSigningRequestSpec{
				Usages: []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}}},
			"/certificatesigningrequests/csr", "certificates.k8s.io/v1"},
		{schema.GroupVersionResource{Group: "flowcontrol.apiserver.k8s.io", Version: "v1", Resource: "flowschemas"},
			&flowcontrolv1.FlowSchema{ObjectMeta: om("fs")}, "/flowschemas/fs", "flowcontrol.apiserver.k8s.io/v1"},
		{schema.GroupVersionResource{Group: "flowcontrol.apiserver.k8s.io", Version: "v1", Resource: "prioritylevelconfigurations"},
			&flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: om("pl")}, "/prioritylevelconfigurations/pl", "flowcontrol.apiserver.k8s.io/v1"},
		{schema.GroupVersionResource{Group: "node.k8s.io", Version: "v1", Resource: "runtimeclasses"},
			&nodev1.RuntimeClass{ObjectMeta: om("rc"), Handler: "runc"}, "/runtimeclasses/rc", "node.k8s.io/v1"},
		{schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"},
			&schedulingv1.PriorityClass{ObjectMeta: om("pc"), Value: 10}, "/priorityclasses/pc", "scheduling.k8s.io/v1"},
		{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"},
			&networkingv1.IngressClass{ObjectMeta: om("ic")}, "/ingressclasses/ic", "networking.k8s.io/v1"},
		{storageGVR("csidrivers"), &storagev1.CSIDriver{ObjectMeta: om("csi.example.com")},
			"/csidrivers/csi.example.com", "storage.k8s.io/v1"},
		{storageGVR("csinodes"), &storagev1.CSINode{ObjectMeta: om("node1")}, "/csinodes/node1", "storage.k8s.io/v1"},
		{storageGVR("volumeattachments"), &storagev1.VolumeAttachment{ObjectMeta: om("va")},
			"/volumeattachments/va", "storage.k8s.io/v1"},
		{storageGVR("csistoragecapacities"), &storagev1.CSIStorageCapacity{ObjectMeta: nsm("cap"), StorageClassName: "sc"},
			"/csistoragecapacities/default/cap", "storage.k8s.io/v1"},
		{storageGVR("volumeattributesclasses"), &storagev1.VolumeAttributesClass{ObjectMeta: om("vac"), DriverName: "csi.example.com"},
			"/volumeattributesclasses/vac", "storage.k8s.io/v1"},
		{resourceGVR("deviceclasses"), &resourcev1.DeviceClass{ObjectMeta: om("dc")}, "/deviceclasses/dc", "resource.k8s.io/v1"},
		{resourceGVR("resourceclaims"), &resourcev1.ResourceClaim{ObjectMeta: nsm("claim")},
			"/resourceclaims/default/claim", "resource.k8s.io/v1"},
		{resourceGVR("resourceclaimtemplates"), &resourcev1.ResourceClaimTemplate{ObjectMeta: nsm("tmpl")},
			"/resourceclaimtemplates/default/tmpl", "resource.k8s.io/v1"},
		{resourceGVR("resourceslices"), &resourcev1.ResourceSlice{ObjectMeta: om("slice")},
			"/resourceslices/slice", "resource.k8s.io/v1"},
	} {
		t.Run(c.gvr.Version+"."+c.gvr.Resource, func(t *testing.T) {
			store, ok := reg.Lookup(c.gvr)
			if !ok {
				t.Fatalf("%s is not served", c.gvr)
			}
			m := c.obj.(metav1.Object)
			if _, err := store.Create(t.Context(), m.GetNamespace(), c.obj, registry.CreateOptions{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			resp, err := client.Get(t.Context(), prefix+c.key)
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("get %s: %v (%d keys)", prefix+c.key, err, len(resp.Kvs))
			}
			if got := storedAPIVersion(t, resp.Kvs[0].Value); got != c.version {
				t.Errorf("stored as %s, want %s", got, c.version)
			}
			info, err := builtin.ParseKey(prefix, prefix+c.key)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if info.Resource != c.gvr.GroupResource() || info.Namespace != m.GetNamespace() || info.Name != m.GetName() {
				t.Errorf("ParseKey = %+v, want %s %s/%s", info, c.gvr.GroupResource(), m.GetNamespace(), m.GetName())
			}
			if store.Resource().Namespaced != (m.GetNamespace() != "") {
				t.Errorf("namespaced = %v", store.Resource().Namespaced)
			}
		})
	}
}

func admissionGVR(r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: r}
}

func storageGVR(r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: r}
}

func resourceGVR(r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "resource.k8s.io", Version: "v1", Resource: r}
}

// storedAPIVersion returns the apiVersion of a protobuf-encoded value
// (the "k8s\x00" envelope around a runtime.Unknown).
func storedAPIVersion(t *testing.T, value []byte) string {
	t.Helper()
	magic := []byte("k8s\x00")
	if !bytes.HasPrefix(value, magic) {
		t.Fatalf("not protobuf: %q", value[:min(len(value), 16)])
	}
	var u runtime.Unknown
	if err := u.Unmarshal(value[len(magic):]); err != nil {
		t.Fatal(err)
	}
	return u.APIVersion
}
