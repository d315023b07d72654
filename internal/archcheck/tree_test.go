package archcheck

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// pkg is one package directory of the module, as the tests see it.
type pkg struct {
	dir   string // relative to the module root, slash-separated ("engine", "cmd/socketx")
	name  string // package clause of the non-test files ("" when there are none)
	doc   string // package doc comment of the non-test files, joined
	files []string
	// imports maps each module package this package's non-test files
	// import to the first file that does; testImports the same for _test.go
	// files (including external test packages).
	imports, testImports map[string]string
}

// moduleRoot walks up from the test's directory to the go.mod of the
// module and returns its directory and module path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return dir, strings.TrimSpace(m)
				}
			}
			t.Fatalf("%s/go.mod has no module line", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// inTree reports whether dir belongs to the tree of module: it has no
// go.mod, or its go.mod declares a module under module's path (the SDK's
// modules client and mte, which keep their import paths), not a third
// party's (third_party/gnet).
func inTree(t *testing.T, dir, module string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.HasPrefix(strings.TrimSpace(m), module+"/")
		}
	}
	t.Fatalf("%s/go.mod has no module line", dir)
	return false
}

// loadTree parses the package clause, doc comment and imports of every .go
// file of the module and of its nested modules under its path (client,
// mte), not of third-party modules, testdata or hidden directories, and
// returns the packages by directory.
func loadTree(t *testing.T) map[string]*pkg {
	t.Helper()
	root, module := moduleRoot(t)
	fset := token.NewFileSet()
	pkgs := map[string]*pkg{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			base := d.Name()
			if path != root && (base == "testdata" || base == "vendor" || base == "node_modules" ||
				strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return filepath.SkipDir
			}
			if path != root && !inTree(t, path, module) {
				return filepath.SkipDir // another module (third_party/gnet)
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			return nil
		}
		p := pkgs[rel]
		if p == nil {
			p = &pkg{dir: rel, imports: map[string]string{}, testImports: map[string]string{}}
			pkgs[rel] = p
		}
		file := rel + "/" + d.Name()
		p.files = append(p.files, file)
		test := strings.HasSuffix(d.Name(), "_test.go")
		if !test {
			p.name = f.Name.Name
			if f.Doc != nil {
				p.doc += f.Doc.Text()
			}
		}
		for _, imp := range f.Imports {
			target, ok := modulePackage(module, imp)
			if !ok || target == rel {
				continue // not ours, or an external test package importing its own package
			}
			m := p.imports
			if test {
				m = p.testImports
			}
			if _, seen := m[target]; !seen {
				m[target] = file
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// modulePackage returns the directory of an import of the module, or
// false for the standard library and other modules.
func modulePackage(module string, imp *ast.ImportSpec) (string, bool) {
	path, err := strconv.Unquote(imp.Path.Value)
	if err != nil {
		return "", false
	}
	if path == module {
		return ".", true
	}
	rest, ok := strings.CutPrefix(path, module+"/")
	return rest, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
