//go:build oracle

package diff

// Routing, negotiation and error answers not yet as upstream's.
var knownRoutes = map[string]string{
	"configmaps/patch unsupported type": "causes [\"FieldValueNotSupported <nil>: text/plain\"], oracle []",
	"routes/put version":                "code 200, oracle 405; reason \"\", oracle \"MethodNotAllowed\"",
	"routes/unknown group":              "reason \"NotFound\", oracle \"\"",
	"routes/put to collection":          "code 400, oracle 405; reason \"BadRequest\", oracle \"MethodNotAllowed\"",
	"routes/unsupported media type":     "causes [\"FieldValueNotSupported <nil>: image/png\"], oracle []",
}

func init() { addKnown(knownRoutes) }
