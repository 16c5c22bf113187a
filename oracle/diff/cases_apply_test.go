//go:build oracle

package diff

import (
	"strings"
	"testing"
)

// Server-side apply and managedFields: the managers, operations and
// fields every write records, apply's creates, conflicts and forcing,
// the reset of managedFields, and the subresources.

const (
	applyP = "application/apply-patch+yaml"
	// applyDeploy is a deployment's apply configuration with %R replicas.
	applyDeploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: %R\n" +
		"  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n" +
		"    spec: {containers: [{name: c, image: nginx}]}\n"
	deploysPath = "/apis/apps/v1/namespaces/{ns}/deployments"
)

func applyDeployWith(replicas string) string {
	return strings.ReplaceAll(applyDeploy, "%R", replicas)
}

func TestApply(t *testing.T) { runScenario(t, "apply", applyCases()) }

func TestApplyVersions(t *testing.T) { runScenario(t, "apply-versions", applyVersionCases()) }

// applyVersionCases write one Event through core/v1 and events.k8s.io/v1,
// whose managedFields record each request's version, and migrate a
// client-side applied object (its last-applied annotation) to apply.
func applyVersionCases() []request {
	core := "/api/v1/namespaces/{ns}/events"
	events := "/apis/events.k8s.io/v1/namespaces/{ns}/events"
	lastApplied := `{"apiVersion":"v1","data":{"k":"v"},"kind":"ConfigMap","metadata":{"name":"csa","namespace":"{ns}"}}`
	reqs := []request{
		{Name: "core event", Method: post, Path: core + "?fieldManager=core",
			Body: "apiVersion: v1\nkind: Event\nmetadata: {name: ev}\ninvolvedObject: {kind: Pod, name: p, namespace: \"{ns}\"}\n" +
				"reason: Started\nmessage: hello\ntype: Normal\nsource: {component: kubelet}"},
		{Name: "events.k8s.io apply", Method: patch, Path: events + "/ev?fieldManager=ev", ContentType: applyP,
			Body: "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: ev, labels: {a: b}}\nnote: hello\n"},
		{Name: "core merge patch", Method: patch, Path: core + "/ev?fieldManager=core2", ContentType: mergeP, Body: `{"count":3}`},
		{Name: "events.k8s.io get", Method: get, Path: events + "/ev"},
		{Name: "client-side applied", Method: post, Path: cmPath + "?fieldManager=kubectl-client-side-apply",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa, annotations: {kubectl.kubernetes.io/last-applied-configuration: '" +
				lastApplied + "'}}\ndata: {k: v}"},
		{Name: "server-side apply takes over", Method: patch, Path: cmPath + "/csa?fieldManager=kubectl", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa}\ndata: {k: v, l: w}"},
		// Upstream serves CBOR only with the CBORServingAndStorage gate.
		{Name: "cbor apply", Method: patch, Path: cmPath + "/cbor?fieldManager=c", ContentType: "application/apply-patch+cbor",
			Body: cborConfigMap},
	}
	for i := range reqs {
		reqs[i].ManagedFields = true
	}
	return reqs
}

// cborConfigMap is {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cbor"},"data":{"a":"b"}} in CBOR.
var cborConfigMap = "\xa4\x6aapiVersion\x62v1\x64kind\x69ConfigMap\x68metadata\xa1\x64name\x64cbor\x64data\xa1\x61a\x61b"

func applyCases() []request {
	ua := map[string]string{"User-Agent": "tester/1.0 (linux)"}
	cm := cmPath + "/cm"
	web := deploysPath + "/web"
	reqs := []request{
		{Name: "create with manager", Method: post, Path: cmPath + "?fieldManager=creator",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {a: b}}\ndata: {k: v}"},
		{Name: "create by user agent", Method: post, Path: cmPath, Header: ua,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\ndata: {k: v}"},
		{Name: "update by user agent", Method: put, Path: cmPath + "/cm2", Header: ua,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\ndata: {k: w, l: x}"},
		{Name: "merge patch", Method: patch, Path: cm + "?fieldManager=patcher", ContentType: mergeP, Body: `{"data":{"m":"n"}}`},
		{Name: "strategic patch same manager", Method: patch, Path: cm + "?fieldManager=patcher", ContentType: smpP, Body: `{"data":{"k":"v2"}}`},
		{Name: "apply takes shared fields", Method: patch, Path: cm + "?fieldManager=applier", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {m: \"n\", o: p}"},
		{Name: "apply conflicts with updater", Method: patch, Path: cm + "?fieldManager=applier", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: other, m: \"n\"}"},
		{Name: "apply forced", Method: patch, Path: cm + "?fieldManager=applier&force=true", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: other, m: \"n\"}"},
		{Name: "apply without manager", Method: patch, Path: cm, ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}"},
		{Name: "apply wrong version", Method: patch, Path: cm + "?fieldManager=applier", ContentType: applyP,
			Body: "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}"},
		{Name: "apply unknown field", Method: patch, Path: cm + "?fieldManager=applier", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\nbogus: 1"},
		{Name: "apply duplicate field warns", Method: patch, Path: cm + "?fieldManager=applier&force=true", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: other, m: \"n\"}\ndata: {k: other, m: \"n\"}"},
		{Name: "apply duplicate field strict", Method: patch, Path: cm + "?fieldManager=applier&fieldValidation=Strict", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: other, m: \"n\"}\ndata: {k: other, m: \"n\"}"},
		{Name: "apply bad yaml", Method: patch, Path: cm + "?fieldManager=applier", ContentType: applyP, Body: "{"},
		{Name: "apply with managedFields", Method: patch, Path: cm + "?fieldManager=applier", ContentType: applyP,
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, managedFields: [{manager: x}]}"},
		{Name: "reset managedFields", Method: patch, Path: cm, ContentType: mergeP, Body: `{"metadata":{"managedFields":[{}]}}`},
		{Name: "get reset", Method: get, Path: cm},
		{Name: "apply creates", Method: patch, Path: web + "?fieldManager=kubectl", ContentType: applyP, Body: applyDeployWith("1")},
		{Name: "apply again", Method: patch, Path: web + "?fieldManager=kubectl", ContentType: applyP, Body: applyDeployWith("1")},
		{Name: "apply conflict", Method: patch, Path: web + "?fieldManager=other", ContentType: applyP, Body: applyDeployWith("2")},
		{Name: "apply dry run", Method: patch, Path: web + "?fieldManager=other&force=true&dryRun=All", ContentType: applyP, Body: applyDeployWith("5")},
		{Name: "apply force", Method: patch, Path: web + "?fieldManager=other&force=true", ContentType: applyP, Body: applyDeployWith("3")},
		{Name: "apply drops a field", Method: patch, Path: web + "?fieldManager=kubectl", ContentType: applyP,
			Body: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {x: \"y\"}}\n"},
		{Name: "update scale", Method: put, Path: web + "/scale?fieldManager=scaler",
			Body: "apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: web, namespace: {ns}}\nspec: {replicas: 4}"},
		{Name: "patch status", Method: patch, Path: web + "/status?fieldManager=controller", ContentType: mergeP,
			Body: `{"status":{"replicas":2,"observedGeneration":1}}`},
		{Name: "apply scale", Method: patch, Path: web + "/scale?fieldManager=hpa&force=true", ContentType: applyP,
			Body: "apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: web}\nspec: {replicas: 6}"},
		{Name: "get deployment", Method: get, Path: web},
		{Name: "put keeps managers", Method: put, Path: web + "?fieldManager=putter",
			Body: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {x: z}}\nspec:\n  replicas: 6\n" +
				"  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n" +
				"    spec: {containers: [{name: c, image: nginx:2}]}\n"},
		{Name: "apply uid on create", Method: patch, Path: deploysPath + "/uid?fieldManager=kubectl", ContentType: applyP,
			Body: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: uid, uid: 5c1f6bd4-1d84-4fbb-9e4e-4e4c9d2f8a01}\n"},
	}
	for i := range reqs {
		reqs[i].ManagedFields = true
	}
	return reqs
}
