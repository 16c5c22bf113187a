package storage

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzDecodeContinue feeds arbitrary tokens to the continue-token decoder:
// it must never panic, and a key it accepts never leaves the prefix.
//
//	go test ./internal/storage -run '^$' -fuzz FuzzDecodeContinue -fuzztime 30s
func FuzzDecodeContinue(f *testing.F) {
	good, _ := EncodeContinue("/registry/pods/default/foo\x00", "/registry/pods/", 12345)
	for _, s := range []string{good, "", "%%%", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIuLi8uLi9zZWNyZXRzLyJ9",
		"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiL2RlZmF1bHQvZm9vXHUwMDAwIn0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		key, _, err := DecodeContinue(token, "/registry/pods/")
		if err == nil && !strings.HasPrefix(key, "/registry/pods/") {
			t.Fatalf("token %q decodes to %q, outside the prefix", token, key)
		}
		opts := ListOptions{Recursive: true, ResourceVersion: "0", Predicate: SelectionPredicate{Limit: 1, Continue: token}}
		if _, k, err := ValidateListOptions("/registry/pods/", APIObjectVersioner{}, opts); err == nil && token != "" && !strings.HasPrefix(k, "/registry/pods/") {
			t.Fatalf("token %q validates to key %q, outside the prefix", token, k)
		}
	})
}

// FuzzPrepareKey checks that an accepted key never escapes its resource
// prefix with a "." or ".." segment.
func FuzzPrepareKey(f *testing.F) {
	for _, s := range []string{"/pods/ns/name", "/pods/ns/..", "/pods/../secrets/x", "", "/", "/pods/./a", "/podsx/a"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, key string, recursive bool) {
		got, err := PrepareKey("/pods/", key, recursive)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/pods/") {
			t.Fatalf("%q accepted as %q, outside /pods/", key, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q accepted with a %q segment", key, seg)
			}
		}
	})
}

// FuzzValidateListOptions never panics and answers bad resourceVersions
// with an error.
func FuzzValidateListOptions(f *testing.F) {
	f.Add("", "", int64(0), "")
	f.Add("123", "Exact", int64(10), "")
	f.Add("abc", "NotOlderThan", int64(0), "")
	f.Add("-1", "Other", int64(5), "x")
	f.Fuzz(func(t *testing.T, rv, match string, limit int64, token string) {
		opts := ListOptions{Recursive: true, ResourceVersion: rv, ResourceVersionMatch: metav1.ResourceVersionMatch(match),
			Predicate: SelectionPredicate{Limit: limit, Continue: token}}
		withRev, _, err := ValidateListOptions("/registry/pods/", APIObjectVersioner{}, opts)
		if err == nil && withRev < -1 {
			t.Fatalf("revision %d from rv %q", withRev, rv)
		}
	})
}
