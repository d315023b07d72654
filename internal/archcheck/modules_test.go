package archcheck

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// goMod is what these tests read of a go.mod or go.work file.
type goMod struct {
	module   string
	goLine   string
	requires []string          // module paths, sorted
	replaces map[string]string // module path (any version) → target
	uses     []string          // go.work use directories, sorted
}

// readGoMod parses the directives of a go.mod or go.work file that the
// tests check: module, go, require, replace and use, in one-line or block
// form. Comments are dropped.
func readGoMod(t *testing.T, path string) goMod {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := goMod{replaces: map[string]string{}}
	block := ""
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		verb := block
		switch {
		case block != "" && f[0] == ")":
			block = ""
			continue
		case block == "" && len(f) == 2 && f[1] == "(":
			block = f[0]
			continue
		case block == "":
			verb, f = f[0], f[1:]
		}
		switch verb {
		case "module":
			m.module = f[0]
		case "go":
			m.goLine = f[0]
		case "require":
			m.requires = append(m.requires, f[0])
		case "use":
			m.uses = append(m.uses, f[0])
		case "replace":
			arrow := 0
			for i, w := range f {
				if w == "=>" {
					arrow = i
				}
			}
			m.replaces[f[0]] = strings.Join(f[arrow+1:], " ")
		}
	}
	sort.Strings(m.requires)
	sort.Strings(m.uses)
	return m
}

// TestSDKModules: the Go SDK (client) and mte are modules of their own, so
// an app that requires the SDK gets only what the SDK uses, never the
// server's requirements (AWS, Azure, gnet, zap, Prometheus). The server's
// module builds them from this repository (replace), and go.work puts them
// in one workspace for go test, vet and staticcheck.
func TestSDKModules(t *testing.T) {
	root, module := moduleRoot(t)
	const (
		circl = "github.com/cloudflare/circl"
		ws    = "github.com/gobwas/ws"
		xsys  = "golang.org/x/sys"
		xcry  = "golang.org/x/crypto"
	)
	clientMod, mteMod := module+"/client", module+"/mte"

	// go 1.24: mte uses crypto/sha3 and its benchmarks testing.B.Loop
	// (Go 1.24); circl v1.6.3 asks for 1.22, gobwas/ws for 1.16. The
	// x/sys and x/crypto versions are the ones circl requires: newer ones
	// ask for a newer go. go vet's stdversion check fails when code uses
	// a standard-library symbol newer than this line.
	for _, tc := range []struct {
		dir      string
		module   string
		requires []string
		replaces map[string]string
	}{
		{"client", clientMod,
			[]string{circl, ws, "github.com/gobwas/httphead", "github.com/gobwas/pool", mteMod, xcry, xsys},
			map[string]string{mteMod: "../mte"}},
		{"mte", mteMod, []string{circl, xcry, xsys}, map[string]string{}},
	} {
		m := readGoMod(t, filepath.Join(root, tc.dir, "go.mod"))
		sort.Strings(tc.requires)
		if m.module != tc.module || m.goLine != "1.24" {
			t.Errorf("%s/go.mod: module %s, go %s; want %s, go 1.24", tc.dir, m.module, m.goLine, tc.module)
		}
		if !reflect.DeepEqual(m.requires, tc.requires) {
			t.Errorf("%s/go.mod requires %v, want only %v", tc.dir, m.requires, tc.requires)
		}
		if !reflect.DeepEqual(m.replaces, tc.replaces) {
			t.Errorf("%s/go.mod replaces %v, want %v", tc.dir, m.replaces, tc.replaces)
		}
	}

	m := readGoMod(t, filepath.Join(root, "go.mod"))
	for _, mod := range []string{clientMod, mteMod} {
		want := "./" + strings.TrimPrefix(mod, module+"/")
		if i := sort.SearchStrings(m.requires, mod); i == len(m.requires) || m.requires[i] != mod || m.replaces[mod] != want {
			t.Errorf("go.mod: want require %s and replace %s => %s", mod, mod, want)
		}
	}
	w := readGoMod(t, filepath.Join(root, "go.work"))
	if want := []string{".", "./client", "./mte", "./third_party/gnet"}; !reflect.DeepEqual(w.uses, want) || w.goLine != m.goLine {
		t.Errorf("go.work: use %v, go %s; want use %v, go %s (go.mod's)", w.uses, w.goLine, want, m.goLine)
	}
}
