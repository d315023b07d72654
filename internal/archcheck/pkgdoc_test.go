package archcheck

import (
	"path"
	"strings"
	"testing"
)

// TestPackageDocs: every package has a doc comment in the godoc form,
// "Package <name> ..." or, for a command, "Command <directory> ...".
func TestPackageDocs(t *testing.T) {
	tree := loadTree(t)
	for _, dir := range sortedKeys(tree) {
		p := tree[dir]
		want := "Package " + p.name + " "
		if p.name == "main" {
			want = "Command " + path.Base(dir) + " "
		}
		switch {
		case p.name == "":
			t.Errorf("%s has only _test.go files: add a doc.go whose package comment says what the tests check", dir)
		case p.doc == "":
			t.Errorf("%s has no package doc comment: add a doc.go starting %q", dir, want)
		case !strings.HasPrefix(p.doc, want):
			t.Errorf("%s: package doc comment starts %q, want %q", dir, firstLine(p.doc), want)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
