package controller

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
	"github.com/regis-dev/regis/internal/registry"
)

// AutoRegisterManagedLabel marks the APIServices the autoregistration
// manages; "onstart" ones are synced once, when the server starts.
const AutoRegisterManagedLabel = "kube-aggregator.kubernetes.io/automanaged"

const (
	manageOnStart      = "onstart"
	manageContinuously = "true"
)

// apiServicePriority is a group-version's place in discovery: its group's
// minimum priority and its version's priority inside the group.
type apiServicePriority struct{ group, version int32 }

// apiVersionPriorities is kube-apiserver's table (cmd/kube-apiserver/app
// aggregator.go merged over controlplane's
// DefaultGenericAPIServicePriorities). A served group-version missing from
// it gets no APIService.
var apiVersionPriorities = map[schema.GroupVersion]apiServicePriority{
	{Group: "", Version: "v1"}:                                   {18000, 1},
	{Group: "apps", Version: "v1"}:                               {17800, 15},
	{Group: "events.k8s.io", Version: "v1"}:                      {17750, 15},
	{Group: "events.k8s.io", Version: "v1beta1"}:                 {17750, 5},
	{Group: "authentication.k8s.io", Version: "v1"}:              {17700, 15},
	{Group: "authentication.k8s.io", Version: "v1beta1"}:         {17700, 9},
	{Group: "authentication.k8s.io", Version: "v1alpha1"}:        {17700, 1},
	{Group: "authorization.k8s.io", Version: "v1"}:               {17600, 15},
	{Group: "autoscaling", Version: "v1"}:                        {17500, 15},
	{Group: "autoscaling", Version: "v2"}:                        {17500, 30},
	{Group: "autoscaling", Version: "v2beta1"}:                   {17500, 9},
	{Group: "autoscaling", Version: "v2beta2"}:                   {17500, 1},
	{Group: "batch", Version: "v1"}:                              {17400, 15},
	{Group: "batch", Version: "v1beta1"}:                         {17400, 9},
	{Group: "batch", Version: "v2alpha1"}:                        {17400, 9},
	{Group: "certificates.k8s.io", Version: "v1"}:                {17300, 15},
	{Group: "certificates.k8s.io", Version: "v1beta1"}:           {17300, 9},
	{Group: "certificates.k8s.io", Version: "v1alpha1"}:          {17300, 1},
	{Group: "networking.k8s.io", Version: "v1"}:                  {17200, 15},
	{Group: "networking.k8s.io", Version: "v1beta1"}:             {17200, 9},
	{Group: "policy", Version: "v1"}:                             {17100, 15},
	{Group: "policy", Version: "v1beta1"}:                        {17100, 9},
	{Group: "rbac.authorization.k8s.io", Version: "v1"}:          {17000, 15},
	{Group: "storage.k8s.io", Version: "v1"}:                     {16800, 15},
	{Group: "storage.k8s.io", Version: "v1beta1"}:                {16800, 9},
	{Group: "storage.k8s.io", Version: "v1alpha1"}:               {16800, 1},
	{Group: "apiextensions.k8s.io", Version: "v1"}:               {16700, 15},
	{Group: "admissionregistration.k8s.io", Version: "v1"}:       {16700, 15},
	{Group: "admissionregistration.k8s.io", Version: "v1beta1"}:  {16700, 12},
	{Group: "admissionregistration.k8s.io", Version: "v1alpha1"}: {16700, 9},
	{Group: "scheduling.k8s.io", Version: "v1"}:                  {16600, 15},
	{Group: "scheduling.k8s.io", Version: "v1beta1"}:             {16600, 9},
	{Group: "scheduling.k8s.io", Version: "v1alpha3"}:            {16600, 3},
	{Group: "coordination.k8s.io", Version: "v1"}:                {16500, 15},
	{Group: "coordination.k8s.io", Version: "v1beta1"}:           {16500, 13},
	{Group: "coordination.k8s.io", Version: "v1alpha2"}:          {16500, 12},
	{Group: "node.k8s.io", Version: "v1"}:                        {16300, 15},
	{Group: "node.k8s.io", Version: "v1alpha1"}:                  {16300, 1},
	{Group: "node.k8s.io", Version: "v1beta1"}:                   {16300, 9},
	{Group: "discovery.k8s.io", Version: "v1"}:                   {16200, 15},
	{Group: "discovery.k8s.io", Version: "v1beta1"}:              {16200, 12},
	{Group: "resource.k8s.io", Version: "v1"}:                    {16200, 21},
	{Group: "resource.k8s.io", Version: "v1beta2"}:               {16200, 15},
	{Group: "resource.k8s.io", Version: "v1beta1"}:               {16200, 9},
	{Group: "resource.k8s.io", Version: "v1alpha3"}:              {16200, 1},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1"}:       {16100, 21},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta3"}:  {16100, 18},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta2"}:  {16100, 15},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta1"}:  {16100, 12},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1alpha1"}: {16100, 9},
	{Group: "internal.apiserver.k8s.io", Version: "v1alpha1"}:    {16000, 9},
	{Group: "storagemigration.k8s.io", Version: "v1"}:            {15800, 15},
	{Group: "storagemigration.k8s.io", Version: "v1beta1"}:       {15800, 9},
	{Group: "lifecycle.k8s.io", Version: "v1alpha1"}:             {15700, 1},
}

var apiServicesGVR = apiregistrationv1.SchemeGroupVersion.WithResource("apiservices")

// RegisterAPIServices does at start what kube-aggregator's autoregister
// controller does once for the group-versions kube-apiserver serves
// (registered "on start"): each served group-version of the priority table
// gets its local APIService ("v1.apps", "v1." for the core group), labelled
// automanaged=onstart; an automanaged one whose spec differs gets the
// table's spec back, and an automanaged one for a group-version no longer
// served is deleted. APIServices without the label are left alone, and
// nothing is done after the start: one deleted later comes back at the
// next start, as upstream's.
func RegisterAPIServices(ctx context.Context, reg *registry.Registry) error {
	st, ok := reg.Lookup(apiServicesGVR)
	if !ok {
		return nil
	}
	current, err := st.List(ctx, "", nil)
	if err != nil {
		return fmt.Errorf("autoregister: list APIServices: %w", err)
	}
	desired := map[string]*apiregistrationv1.APIService{}
	for _, gv := range servedGroupVersions(reg) {
		if s := localAPIService(gv); s != nil {
			desired[s.Name] = s
		}
	}
	for _, name := range sortedKeys(desired) {
		if err := syncAPIService(ctx, st, desired[name]); err != nil {
			return err
		}
	}
	for _, cur := range current.(*apiregistrationv1.APIServiceList).Items {
		if desired[cur.Name] == nil && isAutomanaged(&cur) {
			if err := deleteAPIService(ctx, st, &cur); err != nil {
				return err
			}
		}
	}
	return nil
}

// servedGroupVersions lists the group-versions of the registry's rows but
// apiregistration.k8s.io's, which the aggregator serves itself (upstream
// registers only the paths of the servers it delegates to).
func servedGroupVersions(reg *registry.Registry) []schema.GroupVersion {
	var gvs []schema.GroupVersion
	for _, st := range reg.Stores() {
		gv := st.Resource().GroupVersion()
		if gv.Group != apiregistrationv1.GroupName && !slices.Contains(gvs, gv) {
			gvs = append(gvs, gv)
		}
	}
	return gvs
}

// localAPIService is upstream's makeAPIService with the label
// AddAPIServiceToSyncOnStart adds; nil for a group-version the priority
// table does not know.
func localAPIService(gv schema.GroupVersion) *apiregistrationv1.APIService {
	p, ok := apiVersionPriorities[gv]
	if !ok {
		return nil
	}
	return &apiregistrationv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: gv.Version + "." + gv.Group,
			Labels: map[string]string{AutoRegisterManagedLabel: manageOnStart}},
		Spec: apiregistrationv1.APIServiceSpec{Group: gv.Group, Version: gv.Version,
			GroupPriorityMinimum: p.group, VersionPriority: p.version},
	}
}

// syncAPIService creates the desired APIService, or puts its spec back on
// an automanaged one (upstream's checkAPIService, cases 2B and 5B).
func syncAPIService(ctx context.Context, st *registry.Store, want *apiregistrationv1.APIService) error {
	obj, err := st.Get(ctx, "", want.Name, nil)
	if apierrors.IsNotFound(err) {
		_, err = st.Create(ctx, "", want.DeepCopy(), registry.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("autoregister: APIService %s: %w", want.Name, err)
	}
	cur := obj.(*apiregistrationv1.APIService)
	if !isAutomanaged(cur) || reflect.DeepEqual(cur.Spec, want.Spec) {
		return nil
	}
	_, _, err = st.Update(ctx, "", want.Name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		s := existing.(*apiregistrationv1.APIService)
		s.Spec = want.Spec
		return s, nil
	}, registry.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("autoregister: APIService %s: %w", want.Name, err)
	}
	return nil
}

// deleteAPIService deletes an automanaged APIService of a group-version
// no longer served, if it is still the one listed (upstream's UID
// precondition).
func deleteAPIService(ctx context.Context, st *registry.Store, s *apiregistrationv1.APIService) error {
	uid := types.UID(s.UID)
	opts := registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}}
	_, _, err := st.Delete(ctx, "", s.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("autoregister: delete APIService %s: %w", s.Name, err)
	}
	return nil
}

func isAutomanaged(s *apiregistrationv1.APIService) bool {
	v := s.Labels[AutoRegisterManagedLabel]
	return v == manageOnStart || v == manageContinuously
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
