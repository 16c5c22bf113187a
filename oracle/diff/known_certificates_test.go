//go:build oracle

package diff

// The field selectors of pod certificate requests: upstream's field label
// conversion function of the kind supports no metadata.namespace, which
// the store adds to every namespaced resource's.
var knownCertificates = map[string]string{
	"pcr/list all namespaces": "code 200, oracle 400; reason \"\", oracle \"BadRequest\"",
}

func init() { addKnown(knownCertificates) }
