//go:build oracle

package diff

// Routing, negotiation and error answers not yet as upstream's.
var knownRoutes = map[string]string{}

func init() { addKnown(knownRoutes) }
