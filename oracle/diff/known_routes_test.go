//go:build oracle

package diff

// Routing, negotiation and error answers not yet as upstream's, and those
// kept different on purpose (README, "Differences kept on purpose").
var knownRoutes = map[string]string{
	"options/get resourceVersion bad": "kept on purpose: regis answers 400 BadRequest where upstream's storage answers 500",
}

func init() { addKnown(knownRoutes) }
