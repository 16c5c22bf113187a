package apiserver_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
	"github.com/regis-dev/regis/internal/codec"
)

var apiServicesGVR = apiregistrationv1.SchemeGroupVersion.WithResource("apiservices")

// APIServices through client-go's dynamic client: the autoregistered
// local ones are listed, a new local one is available at once, its status
// is written through /status only, and an update needs a resourceVersion.
func TestAPIServicesCRUD(t *testing.T) {
	s := startServer(t)
	dc, err := dynamic.NewForConfig(s.config)
	if err != nil {
		t.Fatal(err)
	}
	client := dc.Resource(apiServicesGVR)
	list, err := client.List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, item := range list.Items {
		names = append(names, item.GetName())
	}
	for _, want := range []string{"v1.", "v1.apps", "v2.autoscaling"} {
		if !slices.Contains(names, want) {
			t.Errorf("APIServices %v lack %s", names, want)
		}
	}

	obj := toUnstructured(t, &apiregistrationv1.APIService{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiregistration.k8s.io/v1", Kind: "APIService"},
		ObjectMeta: metav1.ObjectMeta{Name: "v1alpha1.example.com"},
		Spec: apiregistrationv1.APIServiceSpec{Group: "example.com", Version: "v1alpha1",
			GroupPriorityMinimum: 1000, VersionPriority: 5},
		Status: apiregistrationv1.APIServiceStatus{Conditions: []apiregistrationv1.APIServiceCondition{{Type: "Other", Status: "True"}}},
	})
	created := fromUnstructured(t, must(client.Create(t.Context(), obj, metav1.CreateOptions{})))
	if c := created.Status.Conditions; len(c) != 1 || c[0].Type != "Available" || c[0].Status != "True" || c[0].Reason != "Local" {
		t.Errorf("created: conditions %+v, want only Available True (Local)", c)
	}
	if created.Generation != 0 {
		t.Errorf("created: generation %d, want none", created.Generation)
	}

	// /status writes the status, not the labels.
	created.Labels = map[string]string{"ignored": "yes"}
	created.Status.Conditions[0].Status, created.Status.Conditions[0].Reason = "False", "Testing"
	updated := fromUnstructured(t, must(client.UpdateStatus(t.Context(), toUnstructured(t, created), metav1.UpdateOptions{})))
	if c := updated.Status.Conditions; c[0].Status != "False" || c[0].Reason != "Testing" || updated.Labels != nil {
		t.Errorf("status update: conditions %+v, labels %v", c, updated.Labels)
	}
	updated.Status.Conditions[0].Status = "Maybe"
	if _, err := client.UpdateStatus(t.Context(), toUnstructured(t, updated), metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("status Maybe: %v, want Invalid", err)
	}

	// The main resource keeps the status and needs a resourceVersion.
	updated = fromUnstructured(t, must(client.Get(t.Context(), "v1alpha1.example.com", metav1.GetOptions{})))
	updated.Spec.VersionPriority = 7
	updated.Status = apiregistrationv1.APIServiceStatus{}
	again := fromUnstructured(t, must(client.Update(t.Context(), toUnstructured(t, updated), metav1.UpdateOptions{})))
	if again.Spec.VersionPriority != 7 || len(again.Status.Conditions) != 1 || again.Status.Conditions[0].Reason != "Testing" {
		t.Errorf("update: spec %+v, status %+v", again.Spec, again.Status)
	}
	again.ResourceVersion = ""
	if _, err := client.Update(t.Context(), toUnstructured(t, again), metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("update without resourceVersion: %v, want Invalid", err)
	}
	bad := toUnstructured(t, &apiregistrationv1.APIService{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiregistration.k8s.io/v1", Kind: "APIService"},
		ObjectMeta: metav1.ObjectMeta{Name: "v1.wrong.example.com"},
		Spec:       apiregistrationv1.APIServiceSpec{Group: "example.com", Version: "v1", GroupPriorityMinimum: 1, VersionPriority: 1},
	})
	if _, err := client.Create(t.Context(), bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), "must be `spec.version+\".\"+spec.group`") {
		t.Errorf("create with a name that is not version.group: %v", err)
	}
	if err := client.Delete(t.Context(), "v1alpha1.example.com", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// An APIService is stored as kube-aggregator stores it: JSON at
// apiregistration.k8s.io/v1 under <prefix>/apiregistration.k8s.io/apiservices/,
// ending with a newline, whatever the storage media type of the others.
func TestAPIServicesStoredAsJSON(t *testing.T) {
	startServer(t) // its bootstrap registers v1.apps
	resp, err := shared.Client(t).Get(t.Context(), "/"+strings.ReplaceAll(t.Name(), "/", "_")+"/apiregistration.k8s.io/apiservices/v1.apps")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("stored v1.apps: %v %v", resp, err)
	}
	value := regexp.MustCompile(`"(uid|creationTimestamp|lastTransitionTime)":"[^"]*"`).ReplaceAll(resp.Kvs[0].Value, []byte(`"$1":"X"`))
	const want = `{"kind":"APIService","apiVersion":"apiregistration.k8s.io/v1",` +
		`"metadata":{"name":"v1.apps","uid":"X","creationTimestamp":"X","labels":{"kube-aggregator.kubernetes.io/automanaged":"onstart"}},` +
		`"spec":{"group":"apps","version":"v1","groupPriorityMinimum":17800,"versionPriority":15},` +
		`"status":{"conditions":[{"type":"Available","status":"True","lastTransitionTime":"X","reason":"Local","message":"Local APIServices are always available"}]}}` + "\n"
	if string(value) != want {
		t.Errorf("stored value\n%s\nwant\n%s", value, want)
	}
}

// APIServices are served in protobuf, as upstream's.
func TestAPIServicesProtobuf(t *testing.T) {
	s := startServer(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/apis/apiregistration.k8s.io/v1/apiservices/v1.apps", nil)
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.kubernetes.protobuf" {
		t.Fatalf("protobuf get: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	obj, _, err := codec.Deserializer().Decode(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := obj.(*apiregistrationv1.APIService)
	if !ok || got.Name != "v1.apps" || got.Spec.GroupPriorityMinimum != 17800 || len(got.Status.Conditions) != 1 {
		t.Errorf("decoded %T %+v", obj, obj)
	}
}

func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured) *apiregistrationv1.APIService {
	t.Helper()
	var s apiregistrationv1.APIService
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func must(u *unstructured.Unstructured, err error) *unstructured.Unstructured {
	if err != nil {
		panic(err)
	}
	return u
}
