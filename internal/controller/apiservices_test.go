package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/registry"
)

func registerAPIServices(t *testing.T, reg *registry.Registry) {
	t.Helper()
	if err := controller.RegisterAPIServices(t.Context(), reg); err != nil {
		t.Fatalf("RegisterAPIServices: %v", err)
	}
}

// Each served group-version gets its local APIService, with
// kube-apiserver's priorities, available at once; apiregistration.k8s.io
// itself gets none.
func TestRegisterAPIServices(t *testing.T) {
	reg := newRegistry(t)
	registerAPIServices(t, reg)
	st := storeOf(t, reg, "apiregistration.k8s.io/v1", "apiservices")
	for name, want := range map[string]apiregistrationv1.APIServiceSpec{
		"v1.":            {Version: "v1", GroupPriorityMinimum: 18000, VersionPriority: 1},
		"v1.apps":        {Group: "apps", Version: "v1", GroupPriorityMinimum: 17800, VersionPriority: 15},
		"v2.autoscaling": {Group: "autoscaling", Version: "v2", GroupPriorityMinimum: 17500, VersionPriority: 30},
		"v1.autoscaling": {Group: "autoscaling", Version: "v1", GroupPriorityMinimum: 17500, VersionPriority: 15},
		"v1.flowcontrol.apiserver.k8s.io": {Group: "flowcontrol.apiserver.k8s.io", Version: "v1",
			GroupPriorityMinimum: 16100, VersionPriority: 21},
	} {
		s := mustGet[*apiregistrationv1.APIService](t, st, "", name)
		if !reflect.DeepEqual(s.Spec, want) {
			t.Errorf("%s: spec %+v, want %+v", name, s.Spec, want)
		}
		if s.Labels[controller.AutoRegisterManagedLabel] != "onstart" {
			t.Errorf("%s: labels %v", name, s.Labels)
		}
		if c := s.Status.Conditions; len(c) != 1 || c[0].Type != "Available" || c[0].Status != "True" || c[0].Reason != "Local" {
			t.Errorf("%s: conditions %+v, want Available True (Local)", name, c)
		}
	}
	if get(t, st, "", "v1.apiregistration.k8s.io") != nil {
		t.Error("apiregistration.k8s.io has an APIService")
	}
	served := map[string]bool{}
	for _, s := range reg.Stores() {
		if gv := s.Resource().GroupVersion(); gv.Group != "apiregistration.k8s.io" {
			served[gv.String()] = true
		}
	}
	if n := count(t, st, ""); n != len(served) {
		t.Errorf("%d APIServices for %d served group-versions", n, len(served))
	}
}

// At start, an automanaged APIService gets its spec back and one of a
// group-version no longer served goes; the others are left alone.
func TestRegisterAPIServicesSyncsAutomanaged(t *testing.T) {
	reg := newRegistry(t)
	registerAPIServices(t, reg)
	st := storeOf(t, reg, "apiregistration.k8s.io/v1", "apiservices")
	update(t, st, "", "v1.apps", func(s *apiregistrationv1.APIService) { s.Spec.GroupPriorityMinimum = 100 })
	update(t, st, "", "v1.batch", func(s *apiregistrationv1.APIService) {
		s.Spec.GroupPriorityMinimum = 100
		s.Labels = nil
	})
	stale := func(name, version string, labels map[string]string) {
		create(t, st, "", &apiregistrationv1.APIService{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec: apiregistrationv1.APIServiceSpec{Group: "batch", Version: version, GroupPriorityMinimum: 1, VersionPriority: 1}})
	}
	stale("v1beta1.batch", "v1beta1", map[string]string{controller.AutoRegisterManagedLabel: "onstart"})
	stale("v2alpha1.batch", "v2alpha1", nil)

	registerAPIServices(t, reg) // the next start
	if s := mustGet[*apiregistrationv1.APIService](t, st, "", "v1.apps"); s.Spec.GroupPriorityMinimum != 17800 {
		t.Errorf("v1.apps: group priority %d, want 17800 back", s.Spec.GroupPriorityMinimum)
	}
	if s := mustGet[*apiregistrationv1.APIService](t, st, "", "v1.batch"); s.Spec.GroupPriorityMinimum != 100 {
		t.Errorf("v1.batch, no longer automanaged: group priority %d, want 100 kept", s.Spec.GroupPriorityMinimum)
	}
	if get(t, st, "", "v1beta1.batch") != nil {
		t.Error("the automanaged APIService of a group-version not served is still there")
	}
	mustGet[*apiregistrationv1.APIService](t, st, "", "v2alpha1.batch")
}

// A local APIService whose availability is changed gets it back; a remote
// one is left alone.
func TestLocalAvailability(t *testing.T) {
	reg := newRegistry(t)
	registerAPIServices(t, reg)
	st := storeOf(t, reg, "apiregistration.k8s.io/v1", "apiservices")
	port := int32(443)
	create(t, st, "", &apiregistrationv1.APIService{ObjectMeta: metav1.ObjectMeta{Name: "v1.remote.example.com"},
		Spec: apiregistrationv1.APIServiceSpec{Group: "remote.example.com", Version: "v1", GroupPriorityMinimum: 1, VersionPriority: 1,
			Service: &apiregistrationv1.ServiceReference{Namespace: "default", Name: "remote", Port: &port}}})
	start(t, controller.NewLocalAvailability(reg, testLog(t)))

	_, _, err := st.Update(t.Context(), "", "v1.apps", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		s := existing.(*apiregistrationv1.APIService)
		s.Status.Conditions = []apiregistrationv1.APIServiceCondition{{Type: "Other", Status: "True"},
			{Type: "Available", Status: "False", Reason: "Test"}}
		return s, nil
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	if err != nil {
		t.Fatal(err)
	}
	var last []apiregistrationv1.APIServiceCondition
	waitFor(t, func() bool {
		last = mustGet[*apiregistrationv1.APIService](t, st, "", "v1.apps").Status.Conditions
		return len(last) == 2 && last[1].Status == "True" && last[1].Reason == "Local" && last[0].Type == "Other"
	}, func() string {
		return fmt.Sprintf("v1.apps conditions %+v, want Other then Available True (Local)", last)
	})
	if c := mustGet[*apiregistrationv1.APIService](t, st, "", "v1.remote.example.com").Status.Conditions; len(c) != 0 {
		t.Errorf("remote APIService: conditions %+v, want none", c)
	}
}
