package admission

import (
	"testing"

	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	apiservercel "k8s.io/apiserver/pkg/cel"
)

// TestDeclsAsUpstream: request and namespaceObject have upstream's types,
// field by field.
func TestDeclsAsUpstream(t *testing.T) {
	for _, c := range []struct{ ours, theirs *apiservercel.DeclType }{
		{requestDeclType(), plugincel.BuildRequestType()},
		{namespaceDeclType(), plugincel.BuildNamespaceType()},
	} {
		sameDecl(t, c.ours.TypeName(), c.ours, c.theirs)
	}
}

func sameDecl(t *testing.T, path string, ours, theirs *apiservercel.DeclType) {
	t.Helper()
	if ours.TypeName() != theirs.TypeName() || ours.CelType().String() != theirs.CelType().String() {
		t.Errorf("%s: %s (%s), upstream %s (%s)", path, ours.TypeName(), ours.CelType(), theirs.TypeName(), theirs.CelType())
	}
	if len(ours.Fields) != len(theirs.Fields) {
		t.Errorf("%s: %d fields, upstream %d", path, len(ours.Fields), len(theirs.Fields))
	}
	for name, f := range theirs.Fields {
		o, ok := ours.Fields[name]
		if !ok {
			t.Errorf("%s.%s missing", path, name)
			continue
		}
		if o.Required != f.Required {
			t.Errorf("%s.%s required %v, upstream %v", path, name, o.Required, f.Required)
		}
		sameDecl(t, path+"."+name, o.Type, f.Type)
	}
	if ours.ElemType != nil && theirs.ElemType != nil {
		sameDecl(t, path+"[]", ours.ElemType, theirs.ElemType)
	}
}
