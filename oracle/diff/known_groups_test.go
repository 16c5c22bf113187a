//go:build oracle

package diff

// Resources and subresources regis does not serve yet. APIServices are
// kube-aggregator's, outside the resource rows.
var knownGroups = map[string]string{
}

func init() { addKnown(knownGroups) }
