package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// documentedTables are the tables that document the variables: README's
// configuration table and, for the billing variables it points to,
// docs/METERING.md's.
var documentedTables = []struct{ file, section string }{
	{"../README.md", "## Configuration"},
	{"../docs/METERING.md", "## Strategies and variables"},
}

// TestDocumentedVars: the documentation's tables name exactly the
// variables of Vars, each once, and show Vars' default wherever they show
// one (a backquoted value); a variable without a default is documented
// without one ("unset", "—", "set by ECS").
func TestDocumentedVars(t *testing.T) {
	documented := map[string]string{} // name -> file
	for _, tbl := range documentedTables {
		for _, row := range tableRows(t, tbl.file, tbl.section) {
			names := codeSpans(row[0], `^[A-Z][A-Z0-9_]*[A-Z0-9]$`)
			if len(names) == 0 {
				continue // a row that points elsewhere
			}
			defaults := codeSpans(row[1], `.`)
			if len(defaults) != 0 && len(defaults) != len(names) {
				t.Errorf("%s: %v: %d defaults for %d variables", tbl.file, names, len(defaults), len(names))
				continue
			}
			for i, name := range names {
				if where, dup := documented[name]; dup {
					t.Errorf("%s documented twice (%s and %s)", name, where, tbl.file)
				}
				documented[name] = tbl.file
				v, ok := lookupVar(name)
				if !ok {
					t.Errorf("%s: %s is documented but not in config.Vars", tbl.file, name)
					continue
				}
				want := ""
				if len(defaults) != 0 {
					want = defaults[i]
				}
				if v.Default != want {
					t.Errorf("%s: %s default %q, config.Vars says %q", tbl.file, name, want, v.Default)
				}
			}
		}
	}
	for _, v := range Vars {
		if _, ok := documented[v.Name]; !ok {
			t.Errorf("config.Vars has %s, which no documentation table lists", v.Name)
		}
	}
}

func lookupVar(name string) (Var, bool) {
	i := slices.IndexFunc(Vars, func(v Var) bool { return v.Name == name })
	if i < 0 {
		return Var{}, false
	}
	return Vars[i], true
}

// tableRows returns the cells of the body rows of the tables in section
// (from its heading to the next heading of the same level).
func tableRows(t *testing.T, file, section string) [][]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	level := section[:strings.IndexByte(section, ' ')+1]
	var rows [][]string
	in, header := false, false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == section:
			in = true
			continue
		case in && strings.HasPrefix(line, level):
			in = false
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			header = true // the next table row is a header
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if header || strings.HasPrefix(cells[0], "---") {
			header = false
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) < 2 {
			t.Fatalf("%s: row %q", file, line)
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no table under %q", file, section)
	}
	return rows
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// codeSpans returns the backquoted texts of cell that match pattern.
func codeSpans(cell, pattern string) []string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		if re.MatchString(m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}
