package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// apfObject is a flow schema or a priority level.
type apfObject interface {
	runtime.Object
	metav1.Object
}

// apfKind is what the ensurer needs of one of the two kinds: its store
// and upstream's SpecEqualish (ensurer/flowschema.go and
// prioritylevelconfiguration.go).
type apfKind[T apfObject] struct {
	st *registry.Store
	// specEqual tells whether want's spec, defaulted, is cur's.
	specEqual func(want, cur T) bool
	// withSpec is a copy of into with from's spec.
	withSpec func(into, from T) T
}

func flowSchemaKind(st *registry.Store) apfKind[*flowcontrolv1.FlowSchema] {
	return apfKind[*flowcontrolv1.FlowSchema]{st: st,
		specEqual: func(want, cur *flowcontrolv1.FlowSchema) bool {
			return equality.Semantic.DeepEqual(defaulted(st, want).Spec, cur.Spec)
		},
		withSpec: func(into, from *flowcontrolv1.FlowSchema) *flowcontrolv1.FlowSchema {
			out := into.DeepCopy()
			out.Spec = *from.Spec.DeepCopy()
			return out
		}}
}

func priorityLevelKind(st *registry.Store) apfKind[*flowcontrolv1.PriorityLevelConfiguration] {
	return apfKind[*flowcontrolv1.PriorityLevelConfiguration]{st: st,
		specEqual: func(want, cur *flowcontrolv1.PriorityLevelConfiguration) bool {
			exp := defaulted(st, want)
			// The exempt level's shares and lending are the operator's.
			if want.Name == flowcontrolv1.PriorityLevelConfigurationNameExempt {
				if cur.Spec.Exempt == nil {
					return false
				}
				exp.Spec.Exempt.NominalConcurrencyShares = cur.Spec.Exempt.NominalConcurrencyShares
				exp.Spec.Exempt.LendablePercent = cur.Spec.Exempt.LendablePercent
			}
			return equality.Semantic.DeepEqual(exp.Spec, cur.Spec)
		},
		withSpec: func(into, from *flowcontrolv1.PriorityLevelConfiguration) *flowcontrolv1.PriorityLevelConfiguration {
			out := into.DeepCopy()
			out.Spec = *from.Spec.DeepCopy()
			return out
		}}
}

// defaulted is a copy of obj with the defaults of st's row.
func defaulted[T apfObject](st *registry.Store, obj T) T {
	out := obj.DeepCopyObject().(T)
	if d := st.Resource().Default; d != nil {
		d(out)
	}
	return out
}

// ensure is upstream's ensure: the suggested objects, then the mandatory
// ones, then the deletion of autoupdated objects no longer wanted. It
// stops at the first error.
func (c *FlowControl) ensure(ctx context.Context, schemas, levels *registry.Store) error {
	fs, pl := flowSchemaKind(schemas), priorityLevelKind(levels)
	if err := ensureAll(ctx, pl, c.suggestedLevels, false); err != nil {
		return fmt.Errorf("failed ensuring suggested settings - %w", err)
	}
	if err := ensureAll(ctx, fs, c.suggestedSchemas, false); err != nil {
		return fmt.Errorf("failed ensuring suggested settings - %w", err)
	}
	if err := ensureAll(ctx, pl, c.mandatoryLevels, true); err != nil {
		return fmt.Errorf("failed ensuring mandatory settings - %w", err)
	}
	if err := ensureAll(ctx, fs, c.mandatorySchemas, true); err != nil {
		return fmt.Errorf("failed ensuring mandatory settings - %w", err)
	}
	if err := removeUnwanted(ctx, fs, slices.Concat(c.mandatorySchemas, c.suggestedSchemas)); err != nil {
		return fmt.Errorf("failed to delete removed settings - %w", err)
	}
	if err := removeUnwanted(ctx, pl, slices.Concat(c.mandatoryLevels, c.suggestedLevels)); err != nil {
		return fmt.Errorf("failed to delete removed settings - %w", err)
	}
	return nil
}

func ensureAll[T apfObject](ctx context.Context, k apfKind[T], wants []T, mandatory bool) error {
	for _, want := range wants {
		if err := ensureOne(ctx, k, want, mandatory); err != nil {
			return err
		}
	}
	return nil
}

// ensureOne is upstream's EnsureConfiguration: a missing object is
// created; an existing one is revised if the strategy says so, with the
// resource version read (a concurrent change wins: it is looked at again
// at the next pass).
func ensureOne[T apfObject](ctx context.Context, k apfKind[T], want T, mandatory bool) error {
	name := want.GetName()
	var cur T
	for {
		obj, err := k.st.Get(ctx, "", name, nil)
		if err == nil {
			cur = obj.(T)
			break
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to retrieve %s %q: %w", k.st.Resource().Kind, name, err)
		}
		_, err = k.st.Create(ctx, "", want.DeepCopyObject(), registry.CreateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot create %s %q: %w", k.st.Resource().Kind, name, err)
		}
	}
	revised, ok := revise(k, cur, want, mandatory)
	if !ok {
		return nil
	}
	_, _, err := k.st.Update(ctx, "", name, func(context.Context, runtime.Object) (runtime.Object, error) {
		return revised, nil
	}, registry.UpdateOptions{})
	if err == nil || apierrors.IsConflict(err) {
		return nil
	}
	return fmt.Errorf("failed to update the %s %q, will retry later: %w", k.st.Resource().Kind, name, err)
}

// revise is upstream's ReviseIfNeeded: the spec is put back when the
// object is autoupdated (always for mandatory ones) and differs, and the
// annotation is set to what was decided.
func revise[T apfObject](k apfKind[T], cur, want T, mandatory bool) (T, bool) {
	auto := mandatory || shouldUpdateSpec(cur)
	fixAnnotation := !annotationSays(cur, auto)
	specChanged := auto && !k.specEqual(want, cur)
	if !fixAnnotation && !specChanged {
		var zero T
		return zero, false
	}
	revised := cur.DeepCopyObject().(T)
	if specChanged {
		revised = k.withSpec(cur, want)
	}
	if fixAnnotation {
		a := revised.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[flowcontrolv1.AutoUpdateAnnotationKey] = strconv.FormatBool(auto)
		revised.SetAnnotations(a)
	}
	return revised, true
}

// shouldUpdateSpec reads the autoupdate-spec annotation; without a
// boolean there, an object the operator never changed (generation 1) is
// autoupdated.
func shouldUpdateSpec(m metav1.Object) bool {
	if auto, err := strconv.ParseBool(m.GetAnnotations()[flowcontrolv1.AutoUpdateAnnotationKey]); err == nil {
		return auto
	}
	return m.GetGeneration() == 1
}

// annotationSays tells whether the autoupdate-spec annotation is the
// boolean want.
func annotationSays(m metav1.Object, want bool) bool {
	v, ok := m.GetAnnotations()[flowcontrolv1.AutoUpdateAnnotationKey]
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err == nil && b == want
}

// removeUnwanted is upstream's RemoveUnwantedObjects: objects annotated
// autoupdate-spec "true" whose name is not wanted are deleted; others
// (an operator's, or annotated otherwise) are left alone.
func removeUnwanted[T apfObject](ctx context.Context, k apfKind[T], wanted []T) error {
	names := map[string]bool{}
	for _, w := range wanted {
		names[w.GetName()] = true
	}
	list, err := k.st.List(ctx, "", nil)
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, it := range items {
		m := metaOf(it)
		if names[m.GetName()] {
			continue
		}
		if auto, err := strconv.ParseBool(m.GetAnnotations()[flowcontrolv1.AutoUpdateAnnotationKey]); err != nil || !auto {
			continue
		}
		if _, _, err := k.st.Delete(ctx, "", m.GetName(), registry.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to delete unwanted APF object %q - %w", m.GetName(), err)
		}
	}
	return nil
}
