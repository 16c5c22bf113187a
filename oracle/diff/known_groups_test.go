//go:build oracle

package diff

// Resources and subresources regis does not serve yet (none now that
// APIServices are served).
var knownGroups = map[string]string{}

func init() { addKnown(knownGroups) }
