//go:build oracle

package diff

import (
	"net/http"
	"testing"
)

// TestConnect covers the connection subresources, answered as
// kube-apiserver answers where no kubelet runs: pods no node runs, nodes
// missing or unreachable, addresses a proxy may not reach.
func TestConnect(t *testing.T) {
	runScenario(t, "connect", []request{
		{Name: "pod", Method: post, Path: "/api/v1/namespaces/{ns}/pods", Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox}, {name: d, image: busybox}]}"},
		{Name: "pod1", Method: post, Path: "/api/v1/namespaces/{ns}/pods", Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: one}\nspec: {containers: [{name: c, image: busybox}]}"},
		{Name: "bound", Method: post, Path: "/api/v1/namespaces/{ns}/pods", Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: bound}\nspec: {nodeName: n1, containers: [{name: c, image: busybox}]}"},
		{Name: "node", Method: post, Path: "/api/v1/nodes", Body: "apiVersion: v1\nkind: Node\nmetadata: {name: diff-connect-n2}\nstatus: {addresses: [{type: InternalIP, address: 127.0.0.1}], daemonEndpoints: {kubeletEndpoint: {Port: 1}}}"},
		{Name: "bound2", Method: post, Path: "/api/v1/namespaces/{ns}/pods", Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: bound2}\nspec: {nodeName: diff-connect-n2, containers: [{name: c, image: busybox}]}"},
		{Name: "log 2 containers", Method: get, Path: "/api/v1/namespaces/{ns}/pods/p/log"},
		{Name: "log bad container", Method: get, Path: "/api/v1/namespaces/{ns}/pods/p/log?container=x"},
		{Name: "log c", Method: get, Path: "/api/v1/namespaces/{ns}/pods/p/log?container=c"},
		{Name: "log one", Method: get, Path: "/api/v1/namespaces/{ns}/pods/one/log"},
		{Name: "log missing", Method: get, Path: "/api/v1/namespaces/{ns}/pods/missing/log"},
		{Name: "log bound", Method: get, Path: "/api/v1/namespaces/{ns}/pods/bound/log"},
		{Name: "log bound2", Method: get, Path: "/api/v1/namespaces/{ns}/pods/bound2/log"},
		{Name: "log bad tail", Method: get, Path: "/api/v1/namespaces/{ns}/pods/one/log?tailLines=-1"},
		{Name: "log post", Method: post, Path: "/api/v1/namespaces/{ns}/pods/one/log"},
		{Name: "exec get", Method: get, Path: "/api/v1/namespaces/{ns}/pods/one/exec?command=ls"},
		{Name: "exec post", Method: post, Path: "/api/v1/namespaces/{ns}/pods/one/exec?command=ls&stdout=true"},
		{Name: "exec post nocmd", Method: post, Path: "/api/v1/namespaces/{ns}/pods/one/exec"},
		{Name: "exec post bound", Method: post, Path: "/api/v1/namespaces/{ns}/pods/bound/exec?command=ls&stdout=true"},
		{Name: "exec post bound2", Method: post, Path: "/api/v1/namespaces/{ns}/pods/bound2/exec?command=ls&stdout=true"},
		{Name: "exec put", Method: http.MethodPut, Path: "/api/v1/namespaces/{ns}/pods/one/exec?command=ls"},
		{Name: "attach post", Method: post, Path: "/api/v1/namespaces/{ns}/pods/one/attach?stdout=true"},
		{Name: "attach post bound", Method: post, Path: "/api/v1/namespaces/{ns}/pods/bound/attach?stdout=true"},
		{Name: "portforward post", Method: post, Path: "/api/v1/namespaces/{ns}/pods/one/portforward?ports=80"},
		{Name: "portforward get bound", Method: get, Path: "/api/v1/namespaces/{ns}/pods/bound/portforward?ports=80"},
		{Name: "proxy get", Method: get, Path: "/api/v1/namespaces/{ns}/pods/one/proxy"},
		{Name: "proxy get path", Method: get, Path: "/api/v1/namespaces/{ns}/pods/one/proxy/x/y"},
		{Name: "proxy get bound", Method: get, Path: "/api/v1/namespaces/{ns}/pods/bound/proxy/x"},
		{Name: "proxy get bound2", Method: get, Path: "/api/v1/namespaces/{ns}/pods/bound2/proxy/x"},
		{Name: "proxy post", Method: post, Path: "/api/v1/namespaces/{ns}/pods/one/proxy"},
		{Name: "proxy delete", Method: http.MethodDelete, Path: "/api/v1/namespaces/{ns}/pods/one/proxy"},
		{Name: "proxy missing", Method: get, Path: "/api/v1/namespaces/{ns}/pods/missing/proxy"},
		{Name: "svc", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}], selector: {a: b}}"},
		{Name: "svc proxy", Method: get, Path: "/api/v1/namespaces/{ns}/services/s/proxy/x"},
		{Name: "svc proxy port", Method: get, Path: "/api/v1/namespaces/{ns}/services/s:80/proxy/x"},
		{Name: "node proxy", Method: get, Path: "/api/v1/nodes/diff-connect-n2/proxy/x"},
		{Name: "node proxy missing", Method: get, Path: "/api/v1/nodes/zz/proxy/x"},
		{Name: "bindings", Method: post, Path: "/api/v1/namespaces/{ns}/bindings", Body: "apiVersion: v1\nkind: Binding\nmetadata: {name: one}\ntarget: {name: n1}"},
		{Name: "bindings get", Method: get, Path: "/api/v1/namespaces/{ns}/bindings"},
		{Name: "bindings get one", Method: get, Path: "/api/v1/namespaces/{ns}/bindings/one"},
		{Name: "cs list", Method: get, Path: "/api/v1/componentstatuses"},
		{Name: "cs get", Method: get, Path: "/api/v1/componentstatuses/etcd-0"},
		{Name: "cs get sched", Method: get, Path: "/api/v1/componentstatuses/scheduler"},
		{Name: "cs get missing", Method: get, Path: "/api/v1/componentstatuses/x"},
		{Name: "cs post", Method: post, Path: "/api/v1/componentstatuses", Body: "{}"},
		{Name: "cs watch", Method: get, Path: "/api/v1/componentstatuses?watch=1"},
	})
}
