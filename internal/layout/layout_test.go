package layout

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/regis-dev/regis/"

// floors lists every package of the module, top floor first. A package
// imports only packages on floors below its own. A new package is added
// here, on the floor its imports put it.
var floors = [][]string{
	{"cmd/regis", "registest", "internal/storage/conformance", "internal/encryptionconfig/e2e", "internal/layout", "test/fault"},
	{"internal/bench"},  // regis bench: a client of any server
	{"internal/server"}, // the one assembly
	{"internal/apiserver", "internal/ops/encryption", "internal/ops/progress", "internal/ops/inspect", "internal/ops/sizing", "internal/ops/maint", "internal/ops/snapshot", "internal/ops/migrate"},
	{"internal/openapi"}, // the OpenAPI documents, over the generated definitions
	{"internal/controller", "internal/crd", "internal/authz/regstore", "internal/admission", "internal/serviceaccount", "internal/quota", "internal/admission/podsecurity"}, // the controllers, custom resources, RBAC, admission, service account tokens and quota over the registry
	{"internal/registry/builtin", "internal/registry/resolve", "internal/audit"},                                                                                            // rows, over the registry's types; webhooks' service addresses
	{"internal/registry"},
	{"internal/encryptionconfig/peers"},
	{"internal/encryptionconfig"},
	{"internal/storage/etcd3", "internal/storage/cacher", "internal/storage/value/identify", "internal/etcd/etcdtest", "internal/ops/source"},
	{"internal/storage/value/kmsv2", "internal/storage/value/kmsv2/localkms", "internal/storage/value/kmsv2/kmsv2test"},
	{"internal/storage/value/aes", "internal/storage/value/secretbox"},
	{"internal/storage", "internal/storage/cacheable", "internal/storage/value", "internal/codec"},
	{"internal/crdschema", "internal/authz/bootstrap"}, // upstream's schema libraries for CRDs; RBAC's bootstrap policy
	{"internal/authz"}, // authorizers
	{"internal/crdschema/crdvalidation"},
	{"internal/openapi/generated"},
	{"internal/apis/apiregistration/v1", "internal/apis/audit/v1"}, // API types beyond k8s.io/api
	{"internal/etcd/join", "internal/etcd/cluster"},                // embedded HA: joining members, test clusters
	{"internal/etcd"},
	{"internal/pki"},
}

// implementations are the storage implementations: only the assembly
// chooses them; above the storage floor everything sees
// storage.Interface.
var implementations = []string{"internal/storage/etcd3", "internal/storage/cacher"}

// abstract are the packages that must not depend on implementations, even
// through another package.
var abstract = []string{"internal/apiserver", "internal/controller", "internal/registry/builtin", "internal/registry", "internal/ops/encryption"}

// maxLines is the most lines a non-test Go file may have; generated
// protobuf code (*.pb.go) is exempt, as in STYLE's warning script, and so
// is the code of generators (zz_generated.*.go).
const maxLines = 500

// root is the module's directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// otherModule reports whether path, below the module's root, is the root
// of a module of its own (the oracle's).
func otherModule(root, path string) bool {
	if path == root {
		return false
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil
}

// packages returns, for each directory holding non-test Go files, the
// module's packages those files import.
func packages(t *testing.T, dir string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin" || otherModule(dir, path)) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if out[pkg] == nil {
			out[pkg] = map[string]bool{}
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) {
				out[pkg][strings.TrimPrefix(p, module)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFloors(t *testing.T) {
	floor := map[string]int{}
	for i, f := range floors {
		for _, p := range f {
			floor[p] = i
		}
	}
	for pkg, imports := range packages(t, root(t)) {
		i, ok := floor[pkg]
		if !ok {
			t.Errorf("package %s is on no floor: add it to floors", pkg)
			continue
		}
		for imp := range imports {
			if j, ok := floor[imp]; ok && j <= i {
				t.Errorf("%s (floor %d) imports %s (floor %d): a package imports only floors below its own", pkg, i, imp, j)
			}
		}
	}
}

func TestStorageSeenAsInterface(t *testing.T) {
	pkgs := packages(t, root(t))
	for _, a := range abstract {
		seen := map[string]bool{}
		var visit func(p string)
		visit = func(p string) {
			for imp := range pkgs[p] {
				if !seen[imp] {
					seen[imp] = true
					visit(imp)
				}
			}
		}
		visit(a)
		for _, impl := range implementations {
			if seen[impl] {
				t.Errorf("%s depends on %s: only the assembly (internal/server) picks a storage implementation", a, impl)
			}
		}
	}
}

func TestFileLength(t *testing.T) {
	dir := root(t)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || otherModule(dir, path)) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, ".pb.go") ||
			strings.HasPrefix(d.Name(), "zz_generated.") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		n, sc := 0, bufio.NewScanner(f)
		for sc.Scan() {
			n++
		}
		if n > maxLines {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("%s has %d lines: split it (at most %d)", rel, n, maxLines)
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
