package main

import (
	"fmt"
	"io"
	"strings"
)

// need is a group of conformance tests that cannot pass on an API server
// alone (they fail against the oracle kube-apiserver started the same
// way), and why: what they wait for that no component makes.
type need struct {
	// prefix starts the full name of each test of the group.
	prefix string
	reason string
}

// needs are left out of make e2e and make e2e-oracle (run them with -all).
var needs = []need{}

// needOf returns why name cannot pass on an API server alone, or "".
func needOf(name string) string {
	for _, n := range needs {
		if strings.HasPrefix(name, n.prefix) {
			return n.reason
		}
	}
	return ""
}

// printNeeds prints needs as a markdown table.
func printNeeds(w io.Writer) {
	fmt.Fprintln(w, "| Tests (full names start with) | Need |")
	fmt.Fprintln(w, "|---|---|")
	for _, n := range needs {
		fmt.Fprintf(w, "| `%s` | %s |\n", n.prefix, n.reason)
	}
}
