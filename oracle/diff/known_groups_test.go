//go:build oracle

package diff

// Resources and subresources regis does not serve yet. APIServices are
// kube-aggregator's, outside the resource rows.
var knownGroups = map[string]string{
	"groups/list /apis/apiregistration.k8s.io/v1/apiservices": "code 404, oracle 200; reason \"NotFound\", oracle \"\"",
}

func init() { addKnown(knownGroups) }
