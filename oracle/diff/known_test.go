//go:build oracle

package diff

// known are the status differences (code, reason, causes) not fixed yet,
// by "scenario/step", with the difference seen when they were recorded
// (ORACLE_RECORD=file writes new ones in this form). A difference not
// listed fails the suite; a listed one that has gone fails too, so that
// the lists only shrink. They are kept in one file per area
// (known_*_test.go), so that work on different areas does not collide.
// Differences kept on purpose are in the README.
var known = map[string]string{}

func addKnown(m map[string]string) {
	for k, v := range m {
		known[k] = v
	}
}
