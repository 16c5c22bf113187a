//go:build oracle

package diff

// Resources and subresources regis does not serve yet.
var knownGroups = map[string]string{
	"workloads/pod binding":  "code 404, oracle 201; reason \"NotFound\", oracle \"\"",
	"workloads/pod eviction": "code 404, oracle 201; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers":         "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers":         "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations": "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/apiregistration.k8s.io/v1/apiservices":                           "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/certificates.k8s.io/v1/certificatesigningrequests":               "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/flowcontrol.apiserver.k8s.io/v1/flowschemas":                     "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/node.k8s.io/v1/runtimeclasses":                                   "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/scheduling.k8s.io/v1/priorityclasses":                            "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/networking.k8s.io/v1/ingressclasses":                             "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/storage.k8s.io/v1/csidrivers":                                    "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/storage.k8s.io/v1/csinodes":                                      "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/storage.k8s.io/v1/volumeattachments":                             "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
	"groups/list /apis/resource.k8s.io/v1/deviceclasses":                                "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
}

func init() { addKnown(knownGroups) }
