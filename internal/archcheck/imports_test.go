package archcheck

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tablePath is the document whose import table is the rule.
const tablePath = "docs/ARCHITECTURE.md"

// tableHeading starts the section that holds the import table.
const tableHeading = "## Import table"

// row is one package's line of the import table.
type row struct {
	line        int
	imports     map[string]bool // "Imports": what the package's code may import
	testImports map[string]bool // "Tests also import": what only its tests may import
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// readTable parses the import table: the first Markdown table after
// tableHeading, one row per package, with the package, its imports and its
// tests' extra imports as `code spans` in the 2nd, 3rd and 4th column.
func readTable(t *testing.T) map[string]*row {
	t.Helper()
	root, _ := moduleRoot(t)
	f, err := os.Open(filepath.Join(root, tablePath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]*row{}
	sc := bufio.NewScanner(f)
	in, inTable := false, false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !in:
			in = line == tableHeading
			continue
		case strings.HasPrefix(line, "|"):
			inTable = true
		case inTable:
			return rows // the line after the table
		default:
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Fatalf("%s:%d: want 4 columns (layer, package, imports, tests also import), got %d", tablePath, n, len(cells))
		}
		name := codeSpan.FindStringSubmatch(cells[1])
		if name == nil {
			continue // the header and its separator
		}
		if prev, dup := rows[name[1]]; dup {
			t.Errorf("%s:%d: %s has a row already (line %d)", tablePath, n, name[1], prev.line)
		}
		r := &row{line: n, imports: spans(cells[2]), testImports: spans(cells[3])}
		for q := range r.testImports {
			if r.imports[q] {
				t.Errorf("%s:%d: %s lists %s in both Imports and Tests also import; keep it in Imports", tablePath, n, name[1], q)
			}
		}
		rows[name[1]] = r
	}
	if !in {
		t.Fatalf("%s has no %q section", tablePath, tableHeading)
	}
	return rows
}

func spans(cell string) map[string]bool {
	m := map[string]bool{}
	for _, s := range codeSpan.FindAllStringSubmatch(cell, -1) {
		m[s[1]] = true
	}
	return m
}

// TestImportTable fails on every import between two packages of the module
// that docs/ARCHITECTURE.md does not list, and on every listed edge that
// nothing uses any more.
func TestImportTable(t *testing.T) {
	tree := loadTree(t)
	table := readTable(t)
	for _, dir := range sortedKeys(tree) {
		if _, ok := table[dir]; !ok {
			t.Errorf("package %s is not in the import table of %s: add a row for it", dir, tablePath)
		}
	}
	for _, dir := range sortedKeys(table) {
		r := table[dir]
		p, ok := tree[dir]
		if !ok {
			t.Errorf("%s:%d: package %s does not exist any more: remove its row", tablePath, r.line, dir)
			continue
		}
		for _, q := range sortedKeys(p.imports) {
			if !r.imports[q] {
				t.Errorf("new import edge %s → %s (%s): add `%s` to the Imports of %s in %s:%d, or remove the import",
					dir, q, p.imports[q], q, dir, tablePath, r.line)
			}
		}
		for _, q := range sortedKeys(p.testImports) {
			if _, code := p.imports[q]; code {
				continue // checked, and reported if new, as a code edge
			}
			if !r.imports[q] && !r.testImports[q] {
				t.Errorf("new test import edge %s → %s (%s): add `%s` to the Tests also import of %s in %s:%d, or remove the import",
					dir, q, p.testImports[q], q, dir, tablePath, r.line)
			}
		}
		for _, q := range sortedKeys(r.imports) {
			if _, used := p.imports[q]; used {
				continue
			}
			if file, tests := p.testImports[q]; tests {
				t.Errorf("%s:%d: only %s's tests import %s now (%s): move `%s` to Tests also import", tablePath, r.line, dir, q, file, q)
			} else {
				t.Errorf("%s:%d: gone edge %s → %s: nothing in %s imports it any more; remove `%s` from its Imports", tablePath, r.line, dir, q, dir, q)
			}
		}
		for _, q := range sortedKeys(r.testImports) {
			if _, used := p.testImports[q]; !used {
				t.Errorf("%s:%d: gone test edge %s → %s: no test of %s imports it any more; remove `%s` from its Tests also import", tablePath, r.line, dir, q, dir, q)
			}
		}
	}
}
