package registry_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's rest.FillObjectMetaSystemFields and BeforeCreate: the server
// sets uid and creationTimestamp and clears what a client may not set;
// storage sets resourceVersion; a resource with generations starts at 1.
func TestCreateSetsSystemFields(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name           string
		store          *registry.Store
		obj            runtime.Object
		key            string
		wantGeneration int64
	}{
		{name: "configmap", store: f.configMaps(t), obj: configMap("a", nil), key: "/configmaps/test/a", wantGeneration: 0},
		{name: "deployment", store: f.deployments(t), obj: deployment("a", 1), key: "/deployments/test/a", wantGeneration: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metaOf(tt.obj)
			// What a client sends is ignored.
			m.SetUID("client-uid")
			m.SetCreationTimestamp(metav1.NewTime(now.AddDate(-1, 0, 0)))
			m.SetDeletionTimestamp(&nowSec)
			m.SetGeneration(7)
			out, err := tt.store.Create(t.Context(), testNS, tt.obj, registry.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := metaOf(out)
			if got.GetUID() == "" || got.GetUID() == "client-uid" {
				t.Errorf("uid %q, want a new one", got.GetUID())
			}
			if ts := got.GetCreationTimestamp(); !ts.Equal(&nowSec) {
				t.Errorf("creationTimestamp %v, want %v", ts, nowSec)
			}
			if got.GetDeletionTimestamp() != nil {
				t.Errorf("deletionTimestamp %v, want none", got.GetDeletionTimestamp())
			}
			if got.GetGeneration() != tt.wantGeneration {
				t.Errorf("generation %d, want %d", got.GetGeneration(), tt.wantGeneration)
			}
			if gvk := out.GetObjectKind().GroupVersionKind(); gvk != tt.store.Resource().GroupVersionKind() {
				t.Errorf("kind %v, want %v", gvk, tt.store.Resource().GroupVersionKind())
			}
			// resourceVersion is the etcd revision of the write.
			rev := f.etcdRev(t, tt.key)
			if got.GetResourceVersion() != strconv.FormatInt(rev, 10) || rev == 0 {
				t.Errorf("resourceVersion %q, etcd key %s at revision %d", got.GetResourceVersion(), tt.key, rev)
			}
			read, err := tt.store.Get(t.Context(), testNS, "a", nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := metaOf(read); r.GetUID() != got.GetUID() || r.GetResourceVersion() != got.GetResourceVersion() {
				t.Errorf("get: uid %s rv %s, create returned uid %s rv %s", r.GetUID(), r.GetResourceVersion(), got.GetUID(), got.GetResourceVersion())
			}
		})
	}
}

// Upstream's names.SimpleNameGenerator: the prefix, cut to 58 characters,
// and 5 random characters of utilrand's alphabet.
func TestCreateGenerateName(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("x", 70)
	tests := []struct {
		name         string
		objName      string
		generateName string
		want         *regexp.Regexp
	}{
		{name: "prefix", generateName: "web-", want: regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]{5}$`)},
		{name: "long prefix cut to 58", generateName: long, want: regexp.MustCompile(`^x{58}[bcdfghjklmnpqrstvwxz2456789]{5}$`)},
		{name: "name wins", objName: "given", generateName: "web-", want: regexp.MustCompile(`^given$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := configMap(tt.objName, nil)
			cm.GenerateName = tt.generateName
			out := create(t, f.configMaps(t), cm)
			if !tt.want.MatchString(out.Name) {
				t.Fatalf("name %q, want %v", out.Name, tt.want)
			}
			if out.GenerateName != tt.generateName {
				t.Errorf("generateName %q, want %q kept", out.GenerateName, tt.generateName)
			}
			get[*corev1.ConfigMap](t, f.configMaps(t), out.Name)
		})
	}
}

// Upstream's InterpretCreateError: a taken name is 409 AlreadyExists.
func TestCreateAlreadyExists(t *testing.T) {
	f := newFixture(t)
	cms := f.configMaps(t)
	first := create(t, cms, configMap("a", map[string]string{"v": "1"}))
	_, err := cms.Create(t.Context(), testNS, configMap("a", map[string]string{"v": "2"}), registry.CreateOptions{})
	st := wantStatus(t, err, 409, metav1.StatusReasonAlreadyExists)
	if st.Message != `configmaps "a" already exists` || st.Details.Name != "a" || st.Details.Kind != "configmaps" {
		t.Errorf("status %q, details %+v", st.Message, st.Details)
	}
	if got := get[*corev1.ConfigMap](t, cms, "a"); got.Data["v"] != "1" || got.ResourceVersion != first.ResourceVersion {
		t.Errorf("the failed create changed the object: %v at %s", got.Data, got.ResourceVersion)
	}

	t.Run("dry run", func(t *testing.T) {
		// Upstream's DryRunnableStorage.Create answers KeyExists for a taken key.
		_, err := cms.Create(t.Context(), testNS, configMap("a", nil), registry.CreateOptions{DryRun: true})
		wantStatus(t, err, 409, metav1.StatusReasonAlreadyExists)
	})

	t.Run("object being deleted", func(t *testing.T) {
		held := configMap("held", nil)
		held.Finalizers = []string{"example.com/hold"}
		create(t, cms, held)
		if _, _, err := cms.Delete(t.Context(), testNS, "held", registry.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := cms.Create(t.Context(), testNS, configMap("held", nil), registry.CreateOptions{})
		st := wantStatus(t, err, 409, metav1.StatusReasonAlreadyExists)
		// Upstream's store.create prefixes the message when the object
		// in the way has a deletionTimestamp.
		if want := `object is being deleted: configmaps "held" already exists`; st.Message != want {
			t.Errorf("message %q, want upstream's %q", st.Message, want)
		}
	})
}

// Upstream's NamespaceLifecycle admission plugin: no creates in a
// namespace that does not exist (the namespace's 404) or is terminating
// (403 with a NamespaceTerminating cause).
func TestCreateNamespaceLifecycle(t *testing.T) {
	f := newFixture(t)
	f.createNamespace(t, "doomed")
	if _, _, err := f.reg.Namespaces().Delete(t.Context(), "", "doomed", registry.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	doomed, err := f.reg.Namespaces().Get(t.Context(), "", "doomed", nil)
	if err != nil {
		t.Fatalf("a namespace with spec.finalizers is kept while terminating: %v", err)
	}
	if phase := doomed.(*corev1.Namespace).Status.Phase; phase != corev1.NamespaceTerminating {
		t.Fatalf("phase %q, want Terminating", phase)
	}

	t.Run("missing namespace", func(t *testing.T) {
		_, err := f.configMaps(t).Create(t.Context(), "nope", configMap("a", nil), registry.CreateOptions{})
		st := wantStatus(t, err, 404, metav1.StatusReasonNotFound)
		if st.Message != `namespaces "nope" not found` || st.Details.Kind != "namespaces" || st.Details.Name != "nope" {
			t.Errorf("status %q, details %+v", st.Message, st.Details)
		}
	})
	t.Run("terminating namespace", func(t *testing.T) {
		_, err := f.configMaps(t).Create(t.Context(), "doomed", configMap("a", nil), registry.CreateOptions{})
		st := wantStatus(t, err, 403, metav1.StatusReasonForbidden)
		if c := st.Details.Causes; len(c) != 1 || c[0].Type != "NamespaceTerminating" || c[0].Field != "metadata.namespace" ||
			c[0].Message != "namespace doomed is being terminated" {
			t.Errorf("causes %+v", c)
		}
		// admission.NewForbidden names the object being created.
		want := `configmaps "a" is forbidden: unable to create new content in namespace doomed because it is being terminated`
		if st.Message != want {
			t.Errorf("message %q, want upstream's %q", st.Message, want)
		}
	})
	t.Run("namespace mismatch", func(t *testing.T) {
		cm := configMap("a", nil)
		cm.Namespace = "other"
		_, err := f.configMaps(t).Create(t.Context(), testNS, cm, registry.CreateOptions{})
		wantStatus(t, err, 400, metav1.StatusReasonBadRequest)
	})
}

// Upstream's BeforeCreate: metadata is validated with the resource's name
// rule (DNS subdomain by default, DNS label for namespaces, RFC 1035
// label for services) and failures are 422 Invalid on the kind.
func TestCreateValidatesName(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		store     *registry.Store
		obj       runtime.Object
		wantKind  string // "" when the create succeeds
		wantCause metav1.CauseType
	}{
		{name: "subdomain", store: f.configMaps(t), obj: configMap("a.b-1", nil)},
		{name: "digit first is a subdomain", store: f.configMaps(t), obj: configMap("1abc", nil)},
		{name: "upper case", store: f.configMaps(t), obj: configMap("Bad_Name", nil),
			wantKind: "ConfigMap", wantCause: metav1.CauseTypeFieldValueInvalid},
		{name: "no name", store: f.configMaps(t), obj: configMap("", nil),
			wantKind: "ConfigMap", wantCause: metav1.CauseTypeFieldValueRequired},
		{name: "too long", store: f.configMaps(t), obj: configMap(strings.Repeat("a", 254), nil),
			wantKind: "ConfigMap", wantCause: metav1.CauseTypeFieldValueInvalid},
		{name: "namespace is a label", store: f.reg.Namespaces(), obj: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a.b"}},
			wantKind: "Namespace", wantCause: metav1.CauseTypeFieldValueInvalid},
		{name: "service is an RFC 1035 label", store: f.store(t, "", "services"), obj: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "1abc"}},
			wantKind: "Service", wantCause: metav1.CauseTypeFieldValueInvalid},
		{name: "deployment", store: f.deployments(t), obj: deployment("Web", 1),
			wantKind: "Deployment", wantCause: metav1.CauseTypeFieldValueInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := metaOf(tt.obj).GetName()
			out, err := tt.store.Create(t.Context(), testNS, tt.obj, registry.CreateOptions{})
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("create %q: %v", name, err)
				}
				if metaOf(out).GetName() != name {
					t.Errorf("name %q, want %q", metaOf(out).GetName(), name)
				}
				return
			}
			st := wantStatus(t, err, 422, metav1.StatusReasonInvalid)
			if st.Details.Kind != tt.wantKind || st.Details.Group != tt.store.Resource().Group || st.Details.Name != name {
				t.Errorf("details %+v, want kind %s name %q", st.Details, tt.wantKind, name)
			}
			found := false
			for _, c := range st.Details.Causes {
				found = found || c.Field == "metadata.name" && c.Type == tt.wantCause
			}
			if !found {
				t.Errorf("causes %+v, want a %s cause on metadata.name", st.Details.Causes, tt.wantCause)
			}
		})
	}
}

// A dry-run create runs every check and answers the object as it would
// be stored, less the resourceVersion; etcd is left alone.
func TestCreateDryRun(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		store *registry.Store
		obj   runtime.Object
		key   string
	}{
		{name: "configmap", store: f.configMaps(t), obj: configMap("a", map[string]string{"k": "v"}), key: "/configmaps/test/a"},
		{name: "deployment", store: f.deployments(t), obj: deployment("a", 2), key: "/deployments/test/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.store.Create(t.Context(), testNS, tt.obj, registry.CreateOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			m := metaOf(out)
			if m.GetUID() == "" || !m.GetCreationTimestamp().Time.Equal(nowSec.Time) || m.GetResourceVersion() != "" {
				t.Errorf("dry run answered uid %q, creationTimestamp %v, resourceVersion %q", m.GetUID(), m.GetCreationTimestamp(), m.GetResourceVersion())
			}
			if d, ok := out.(*appsv1.Deployment); ok && (d.Generation != 1 || d.Spec.Strategy.Type == "") {
				t.Errorf("dry run skipped defaulting: generation %d, strategy %q", d.Generation, d.Spec.Strategy.Type)
			}
			f.wantNotFound(t, tt.store, "a")
			if rev := f.etcdRev(t, tt.key); rev != 0 {
				t.Errorf("etcd key %s written at %d", tt.key, rev)
			}
		})
	}

	t.Run("invalid", func(t *testing.T) {
		_, err := f.configMaps(t).Create(t.Context(), testNS, configMap("Bad", nil), registry.CreateOptions{DryRun: true})
		wantStatus(t, err, 422, metav1.StatusReasonInvalid)
	})
}
