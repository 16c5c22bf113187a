package admission

import (
	apiservercel "k8s.io/apiserver/pkg/cel"
)

// The types of request and namespaceObject in policies' type checking:
// upstream's hand-made declarations (its admission framework's
// BuildRequestType and BuildNamespaceType), written here with the CEL
// library's types.

func declFields(fields ...*apiservercel.DeclField) map[string]*apiservercel.DeclField {
	out := make(map[string]*apiservercel.DeclField, len(fields))
	for _, f := range fields {
		out[f.Name] = f
	}
	return out
}

func declField(name string, t *apiservercel.DeclType, required bool) *apiservercel.DeclField {
	return apiservercel.NewDeclField(name, t, required, nil, nil)
}

// requestDeclType is the type of request: the admission request.
func requestDeclType() *apiservercel.DeclType {
	str, strings := apiservercel.StringType, apiservercel.NewListType(apiservercel.StringType, -1)
	gvk := apiservercel.NewObjectType("kubernetes.GroupVersionKind", declFields(
		declField("group", str, true), declField("version", str, true), declField("kind", str, true)))
	gvr := apiservercel.NewObjectType("kubernetes.GroupVersionResource", declFields(
		declField("group", str, true), declField("version", str, true), declField("resource", str, true)))
	user := apiservercel.NewObjectType("kubernetes.UserInfo", declFields(
		declField("username", str, false), declField("uid", str, false), declField("groups", strings, false),
		declField("extra", apiservercel.NewMapType(str, strings, -1), false)))
	return apiservercel.NewObjectType("kubernetes.AdmissionRequest", declFields(
		declField("kind", gvk, true), declField("resource", gvr, true), declField("subResource", str, false),
		declField("requestKind", gvk, true), declField("requestResource", gvr, true), declField("requestSubResource", str, false),
		declField("name", str, true), declField("namespace", str, false), declField("operation", str, true),
		declField("userInfo", user, true), declField("dryRun", apiservercel.BoolType, false),
		declField("options", apiservercel.DynType, false)))
}

// namespaceDeclType is the type of namespaceObject: a namespace without
// its managedFields, owner references and the like, as upstream's.
func namespaceDeclType() *apiservercel.DeclType {
	str, strings := apiservercel.StringType, apiservercel.NewListType(apiservercel.StringType, -1)
	strMap := apiservercel.NewMapType(str, str, -1)
	condition := apiservercel.NewObjectType("kubernetes.NamespaceCondition", declFields(
		declField("status", str, true), declField("type", str, true), declField("lastTransitionTime", apiservercel.TimestampType, true),
		declField("message", str, true), declField("reason", str, true)))
	return apiservercel.NewObjectType("kubernetes.Namespace", declFields(
		declField("metadata", apiservercel.NewObjectType("kubernetes.NamespaceMetadata", declFields(
			declField("name", str, true), declField("generateName", str, true), declField("namespace", str, true),
			declField("labels", strMap, true), declField("annotations", strMap, true), declField("UID", str, true),
			declField("creationTimestamp", apiservercel.TimestampType, true),
			declField("deletionGracePeriodSeconds", apiservercel.IntType, true),
			declField("deletionTimestamp", apiservercel.TimestampType, true), declField("generation", apiservercel.IntType, true),
			declField("resourceVersion", str, true), declField("finalizers", strings, true))), true),
		declField("spec", apiservercel.NewObjectType("kubernetes.NamespaceSpec", declFields(
			declField("finalizers", strings, true))), true),
		declField("status", apiservercel.NewObjectType("kubernetes.NamespaceStatus", declFields(
			declField("conditions", apiservercel.NewListType(condition, -1), true), declField("phase", str, true))), true)))
}
