//go:build oracle

package diff

// Validation and defaulting not yet at upstream's level.
var knownValidation = map[string]string{}

func init() { addKnown(knownValidation) }
