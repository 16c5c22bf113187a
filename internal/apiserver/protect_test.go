package apiserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// The answers below are kube-apiserver v1.37.2's:
//   - a DELETE of the namespaces collection has no route (the namespace
//     storage is no CollectionDeleter): go-restful's 405 made a Status by
//     apierrors.NewGenericServerResponse;
//   - the NamespaceLifecycle admission plugin refuses to delete default,
//     kube-system and kube-public;
//   - pkg/apis/core/validation ValidateConfigMapUpdate, ValidateSecretUpdate
//     and ValidateSecret.

const immutableMsg = "field is immutable when `immutable` is set"

// statusOf returns the Status of a client-go error.
func protectStatus(t *testing.T, err error) metav1.Status {
	t.Helper()
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a Status", err, err)
	}
	return se.Status()
}

// wantInvalid checks a 422 Invalid with upstream's message.
func wantInvalid(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted, want 422 %q", what, msg)
	}
	st := protectStatus(t, err)
	if st.Code != http.StatusUnprocessableEntity || st.Reason != metav1.StatusReasonInvalid || st.Message != msg {
		t.Fatalf("%s: %d %s %q, want 422 Invalid %q", what, st.Code, st.Reason, st.Message, msg)
	}
}

func TestProtectNamespacesCollectionDelete(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: http.StatusMethodNotAllowed, Reason: metav1.StatusReasonMethodNotAllowed,
		Message: "the server does not allow this method on the requested resource", Details: &metav1.StatusDetails{},
	}
	for _, query := range []string{"", "?dryRun=All", "?labelSelector=a%3Db", "?propagationPolicy=Bogus"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.URL+"/api/v1/namespaces"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got metav1.Status
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%q: %v: %s", query, err, body)
		}
		if resp.StatusCode != http.StatusMethodNotAllowed || !sameJSON(t, got, want) {
			t.Fatalf("DELETE /api/v1/namespaces%s: %d %s, want 405 %+v", query, resp.StatusCode, body, want)
		}
	}
	// Through client-go's REST client too.
	err := cs.CoreV1().RESTClient().Delete().Resource("namespaces").Do(ctx).Error()
	if st := protectStatus(t, err); !apierrors.IsMethodNotSupported(err) || st.Message != want.Message {
		t.Fatalf("client-go collection delete: %v", err)
	}
	// A namespaced collection still deletes.
	if _, err := cs.CoreV1().ConfigMaps("mine").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ConfigMaps("mine").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatalf("configmaps deletecollection: %v", err)
	}
	for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease", "mine"} {
		ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil || ns.DeletionTimestamp != nil || ns.Status.Phase != corev1.NamespaceActive {
			t.Fatalf("namespace %s after the collection deletes: %v %+v", name, err, ns)
		}
	}
}

func TestProtectImmortalNamespaces(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	nss := cs.CoreV1().Namespaces()
	for _, name := range []string{"default", "kube-system", "kube-public"} {
		for _, opts := range []metav1.DeleteOptions{{}, {DryRun: []string{metav1.DryRunAll}}} {
			err := nss.Delete(ctx, name, opts)
			if err == nil {
				t.Fatalf("delete %s (dry run %v): accepted", name, opts.DryRun)
			}
			st := protectStatus(t, err)
			want := `namespaces "` + name + `" is forbidden: this namespace may not be deleted`
			if !apierrors.IsForbidden(err) || st.Code != http.StatusForbidden || st.Message != want ||
				st.Details == nil || st.Details.Name != name || st.Details.Kind != "namespaces" {
				t.Fatalf("delete %s (dry run %v): %d %s %q %+v, want 403 Forbidden %q", name, opts.DryRun, st.Code, st.Reason, st.Message, st.Details, want)
			}
		}
		ns, err := nss.Get(ctx, name, metav1.GetOptions{})
		if err != nil || ns.DeletionTimestamp != nil {
			t.Fatalf("namespace %s after the refused deletes: %v %+v", name, err, ns)
		}
	}
	// kube-node-lease and the users' namespaces may go.
	if _, err := nss.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kube-node-lease", "mine"} {
		if err := nss.Delete(ctx, name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Fatalf("dry-run delete %s: %v", name, err)
		}
		if err := nss.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := nss.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Fatalf("namespace %s not removed: %v", name, err)
		}
	}
}

func TestProtectDiscoveryNamespacesVerbs(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	list, err := cs.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	for _, r := range list.APIResources {
		switch r.Name {
		case "namespaces":
			if !slices.Equal(r.Verbs, want) {
				t.Errorf("/api/v1 namespaces verbs %v, want %v", r.Verbs, want)
			}
		case "configmaps":
			if !slices.Contains(r.Verbs, "deletecollection") {
				t.Errorf("/api/v1 configmaps verbs %v lack deletecollection", r.Verbs)
			}
		}
	}
	// Aggregated discovery, which client-go asks for first.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/api", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var agg apidiscoveryv2.APIGroupDiscoveryList
	if err := json.NewDecoder(resp.Body).Decode(&agg); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range agg.Items {
		for _, v := range g.Versions {
			for _, r := range v.Resources {
				if r.Resource == "namespaces" {
					found = true
					if !slices.Equal(r.Verbs, want) {
						t.Errorf("aggregated namespaces verbs %v, want %v", r.Verbs, want)
					}
				}
			}
		}
	}
	if !found {
		t.Fatal("aggregated discovery lists no namespaces")
	}
}

func TestProtectImmutableConfigMap(t *testing.T) {
	s := startServer(t)
	cms := s.clientset(t).CoreV1().ConfigMaps("default")
	ctx := t.Context()
	yes, no := true, false
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "frozen"}, Immutable: &yes,
		Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"b": []byte("2")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prefix := `ConfigMap "frozen" is invalid: `
	c := cm.DeepCopy()
	c.Data["a"] = "changed"
	_, err = cms.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "data change", err, prefix+"data: Forbidden: "+immutableMsg)
	if st := protectStatus(t, err); len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "data" ||
		st.Details.Causes[0].Type != metav1.CauseTypeForbidden {
		t.Fatalf("causes %+v", st.Details.Causes)
	}

	c = cm.DeepCopy()
	c.BinaryData = nil
	_, err = cms.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "binaryData change", err, prefix+"binaryData: Forbidden: "+immutableMsg)

	c = cm.DeepCopy()
	c.Immutable = &no
	_, err = cms.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "immutable true to false", err, prefix+"immutable: Forbidden: "+immutableMsg)

	c = cm.DeepCopy()
	c.Immutable = nil
	c.Data["x"] = "y"
	_, err = cms.Update(ctx, c, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	wantInvalid(t, "immutable unset and data change (dry run)", err,
		prefix+"[immutable: Forbidden: "+immutableMsg+", data: Forbidden: "+immutableMsg+"]")

	// The update checks come before the new object's own.
	c = cm.DeepCopy()
	c.Data = map[string]string{"b": "dup"}
	_, err = cms.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "data change with a duplicate key", err,
		prefix+`[data: Forbidden: `+immutableMsg+`, data[b]: Invalid value: "b": duplicate of key present in binaryData]`)

	// Metadata still changes; a mutable config map's data too.
	c = cm.DeepCopy()
	c.Labels = map[string]string{"l": "v"}
	if _, err := cms.Update(ctx, c, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("label change of an immutable config map: %v", err)
	}
	m, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mutable"}, Immutable: &no,
		Data: map[string]string{"a": "1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m.Data["a"] = "2"
	m.Immutable = &yes
	if _, err := cms.Update(ctx, m, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("mutable config map made immutable: %v", err)
	}
}

func TestProtectSecretUpdate(t *testing.T) {
	s := startServer(t)
	secrets := s.clientset(t).CoreV1().Secrets("default")
	ctx := t.Context()
	sec, err := secrets.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Data: map[string][]byte{"username": []byte("u")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prefix := `Secret "s" is invalid: `
	c := sec.DeepCopy()
	c.Type = corev1.SecretTypeBasicAuth
	_, err = secrets.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "type change", err, prefix+`type: Invalid value: "kubernetes.io/basic-auth": field is immutable`)

	c = sec.DeepCopy()
	c.Type = corev1.SecretTypeTLS
	_, err = secrets.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "type change to tls", err, prefix+`[type: Invalid value: "kubernetes.io/tls": field is immutable, `+
		`data[tls.crt]: Required value, data[tls.key]: Required value]`)

	yes, no := true, false
	c = sec.DeepCopy()
	c.Immutable = &yes
	frozen, err := secrets.Update(ctx, c, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("secret made immutable: %v", err)
	}
	c = frozen.DeepCopy()
	c.StringData = map[string]string{"username": "other"}
	_, err = secrets.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "immutable secret's data change", err, prefix+"data: Forbidden: "+immutableMsg)
	c = frozen.DeepCopy()
	c.Immutable = &no
	_, err = secrets.Update(ctx, c, metav1.UpdateOptions{})
	wantInvalid(t, "immutable secret made mutable", err, prefix+"immutable: Forbidden: "+immutableMsg)
}

func TestProtectSecretTypes(t *testing.T) {
	s := startServer(t)
	secrets := s.clientset(t).CoreV1().Secrets("default")
	ctx := t.Context()
	for _, c := range []struct {
		typ         corev1.SecretType
		data        map[string][]byte
		annotations map[string]string
		want        string // "" accepted
	}{
		{typ: corev1.SecretTypeTLS, want: `[data[tls.crt]: Required value, data[tls.key]: Required value]`},
		{typ: corev1.SecretTypeTLS, data: map[string][]byte{"tls.crt": nil}, want: `data[tls.key]: Required value`},
		{typ: corev1.SecretTypeTLS, data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}},
		{typ: corev1.SecretTypeServiceAccountToken, want: `metadata.annotations[kubernetes.io/service-account.name]: Required value`},
		{typ: corev1.SecretTypeServiceAccountToken, annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		{typ: corev1.SecretTypeDockercfg, want: `data[.dockercfg]: Required value`},
		{typ: corev1.SecretTypeDockercfg, data: map[string][]byte{".dockercfg": []byte("{")},
			want: `data[.dockercfg]: Invalid value: "<secret contents redacted>": unexpected end of JSON input`},
		{typ: corev1.SecretTypeDockercfg, data: map[string][]byte{".dockercfg": []byte("{}")}},
		{typ: corev1.SecretTypeDockerConfigJson, want: `data[.dockerconfigjson]: Required value`},
		{typ: corev1.SecretTypeDockerConfigJson, data: map[string][]byte{".dockerconfigjson": []byte("[]")},
			want: `data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}`},
		{typ: corev1.SecretTypeDockerConfigJson, data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}},
		{typ: corev1.SecretTypeBasicAuth, want: `[data[username]: Required value, data[password]: Required value]`},
		{typ: corev1.SecretTypeBasicAuth, data: map[string][]byte{"password": nil}},
		{typ: corev1.SecretTypeSSHAuth, data: map[string][]byte{"ssh-privatekey": nil}, want: `data[ssh-privatekey]: Required value`},
		{typ: corev1.SecretTypeSSHAuth, data: map[string][]byte{"ssh-privatekey": []byte("k")}},
		{typ: corev1.SecretTypeBootstrapToken},
		{typ: "example.com/custom"},
	} {
		in := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "t", Annotations: c.annotations}, Type: c.typ, Data: c.data}
		_, err := secrets.Create(ctx, in, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		what := string(c.typ) + " " + c.want
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
			continue
		}
		wantInvalid(t, what, err, `Secret "t" is invalid: `+c.want)
	}
	// Not dry run: the tls secret is not stored.
	_, err := secrets.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls"}, Type: corev1.SecretTypeTLS}, metav1.CreateOptions{})
	wantInvalid(t, "tls create", err, `Secret "tls" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]`)
	if _, err := secrets.Get(ctx, "tls", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("refused tls secret: get %v", err)
	}
}

// sameJSON compares two values by their JSON encoding.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(x) == string(y)
}
