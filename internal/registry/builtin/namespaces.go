package builtin

import (
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// SystemNamespaces are the namespaces kube-apiserver creates at start.
var SystemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// ImmortalNamespaces are the namespaces kube-apiserver refuses to delete:
// the set its NamespaceLifecycle admission plugin is registered with
// (kube-node-lease is not among them).
var ImmortalNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic}

// admitNamespaceDelete refuses the deletion of an immortal namespace with
// the NamespaceLifecycle admission plugin's answer
// (k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle): 403
// `namespaces "default" is forbidden: this namespace may not be deleted`.
func admitNamespaceDelete(_, name string) error {
	if slices.Contains(ImmortalNamespaces, name) {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, name, errors.New("this namespace may not be deleted"))
	}
	return nil
}
