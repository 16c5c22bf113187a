package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// compare prints, as markdown, how the tests of two results files (the
// oracle's and regis's) went: the tests that pass on the oracle and not on
// regis first, with regis's failure, then those that pass on regis only.
func compare(w io.Writer, oraclePath, regisPath string) error {
	oracle, err := readResults(oraclePath)
	if err != nil {
		return err
	}
	regis, err := readResults(regisPath)
	if err != nil {
		return err
	}
	names := sortedNames(oracle, regis)
	var regressions, regisOnly, both, neither []string
	for _, n := range names {
		o, r := oracle[n].State == "passed", regis[n].State == "passed"
		switch {
		case o && r:
			both = append(both, n)
		case o:
			regressions = append(regressions, n)
		case r:
			regisOnly = append(regisOnly, n)
		default:
			neither = append(neither, n)
		}
	}
	fmt.Fprintf(w, "%d tests: %d pass on both, %d on the oracle only, %d on regis only, %d on neither.\n",
		len(names), len(both), len(regressions), len(regisOnly), len(neither))
	section(w, "Pass on the oracle, fail on regis", regressions, func(n string) string { return regis[n].summary() })
	section(w, "Pass on regis only", regisOnly, func(n string) string { return "oracle: " + oracle[n].summary() })
	section(w, "Pass on both", both, nil)
	section(w, "Pass on neither", neither, func(n string) string { return "oracle: " + oracle[n].summary() })
	return nil
}

// section prints a list of tests, each with a note when note is not nil.
func section(w io.Writer, title string, names []string, note func(string) string) {
	fmt.Fprintf(w, "\n## %s (%d)\n\n", title, len(names))
	for _, n := range names {
		fmt.Fprintf(w, "- %s\n", n)
		if note != nil {
			fmt.Fprintf(w, "  - %s\n", note(n))
		}
	}
}

// summary is a result in one line: its state, and the first line of its
// failure.
func (r result) summary() string {
	if r.State == "" {
		return "not run"
	}
	if r.Message == "" {
		return r.State
	}
	return r.State + ": " + strings.ReplaceAll(firstLine(r.Message), "`", "'")
}

// readResults reads a results file, by test name.
func readResults(path string) (map[string]result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []result
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	byName := make(map[string]result, len(list))
	for _, r := range list {
		byName[r.Name] = r
	}
	return byName, nil
}

// sortedNames are the test names of the results, sorted, once each.
func sortedNames(results ...map[string]result) []string {
	seen := map[string]bool{}
	var names []string
	for _, rs := range results {
		for n := range rs {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}
