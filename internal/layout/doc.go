// Package layout has no code: its test holds the architecture to the
// floors of DESIGN.md's layout (a package imports only packages on floors
// below its own) and to files of at most 500 lines.
package layout
