package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

// parseDockerfile splits a Dockerfile into instructions: comments and blank
// lines dropped, backslash continuations joined.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		cont := strings.HasSuffix(line, "\\")
		cur.WriteString(strings.TrimSuffix(line, "\\"))
		cur.WriteByte(' ')
		if cont {
			continue
		}
		text := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if text == "" {
			continue
		}
		cmd, args, _ := strings.Cut(text, " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: args, line: start})
	}
	return out
}

// pinned reports whether an image reference names a digest or an exact,
// non-latest tag.
func pinned(img string) bool {
	if strings.Contains(img, "@sha256:") {
		return true
	}
	_, tag, ok := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":")
	return ok && tag != "" && tag != "latest"
}

// stages groups instructions by FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

// fromImage returns the image of a FROM instruction (flags skipped).
func fromImage(args string) string {
	for _, f := range strings.Fields(args) {
		if !strings.HasPrefix(f, "--") {
			return f
		}
	}
	return ""
}

func goModVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(\.\d+)?)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod: no go directive")
	}
	return string(m[1])
}

func TestDockerfiles(t *testing.T) {
	goVersion := goModVersion(t)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			ins := parseDockerfile(t, "../Dockerfile."+arch)
			st := stages(ins)
			if len(st) != 2 {
				t.Fatalf("want 2 stages (build, runtime), got %d", len(st))
			}
			for _, s := range st {
				if img := fromImage(s[0].args); !pinned(img) {
					t.Errorf("line %d: base image %q is not pinned to an exact tag or digest", s[0].line, img)
				}
			}
			build, runtime := st[0], st[len(st)-1]

			// Builder: Go from go.mod, cross-compiling from the build platform.
			if got, want := fromImage(build[0].args), "golang:"+goVersion+"-bookworm"; got != want {
				t.Errorf("builder image = %q, want %q (go.mod says go %s)", got, want, goVersion)
			}
			if !strings.Contains(build[0].args, "--platform=$BUILDPLATFORM") {
				t.Errorf("builder FROM %q: want --platform=$BUILDPLATFORM (cross-compile, no emulation)", build[0].args)
			}
			// Module download in its own layer, before the source is copied.
			order := []string{}
			for _, in := range build {
				switch {
				case in.cmd == "COPY" && in.args == "go.mod go.sum ./":
					order = append(order, "copy-mod")
				case in.cmd == "RUN" && strings.HasPrefix(in.args, "go mod download"):
					order = append(order, "download")
				case in.cmd == "COPY" && in.args == ". .":
					order = append(order, "copy-src")
				case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
					order = append(order, "build")
				}
			}
			// Every in-tree module go.mod replaces (gnet, mte, client) has its
			// go.mod and go.sum in that layer: the download reads them.
			var beforeDownload []string
			for _, in := range build {
				if in.cmd == "RUN" && strings.HasPrefix(in.args, "go mod download") {
					break
				}
				if in.cmd == "COPY" {
					beforeDownload = append(beforeDownload, in.args)
				}
			}
			for _, dir := range replacedDirs(t) {
				if want := dir + "/go.mod " + dir + "/go.sum ./" + dir + "/"; !slices.Contains(beforeDownload, want) {
					t.Errorf("no COPY %s before go mod download (go.mod replaces a module with ./%s)", want, dir)
				}
			}
			if want := []string{"copy-mod", "download", "copy-src", "build"}; !slices.Equal(order, want) {
				t.Errorf("build stage order = %v, want %v", order, want)
			}
			var buildRun string
			for _, in := range build {
				if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
					buildRun = in.args
				}
			}
			for _, want := range []string{
				"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch, "-trimpath",
				`-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/socketx",
			} {
				if !strings.Contains(buildRun, want) {
					t.Errorf("go build RUN %q lacks %q", buildRun, want)
				}
			}
			if n := strings.Count(buildRun, "GOARCH="); n != 1 {
				t.Errorf("go build RUN sets GOARCH %d times, want once", n)
			}

			// Runtime: distroless static, non-root, healthcheck through the binary.
			if got, want := runtime[0].args, "--platform=linux/"+arch+" gcr.io/distroless/static-debian12:nonroot"; got != want {
				t.Errorf("runtime FROM = %q, want %q", got, want)
			}
			last := map[string]string{}
			for _, in := range runtime {
				last[in.cmd] = in.args
			}
			if got := last["USER"]; got != "65532:65532" {
				t.Errorf("runtime USER = %q, want 65532:65532", got)
			}
			if got, want := last["HEALTHCHECK"], `--interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["/socketx", "healthcheck"]`; got != want {
				t.Errorf("HEALTHCHECK = %q, want %q", got, want)
			}
			if got := last["ENTRYPOINT"]; got != `["/socketx"]` {
				t.Errorf("ENTRYPOINT = %q", got)
			}
			if got := last["CMD"]; got != `["serve"]` {
				t.Errorf("CMD = %q", got)
			}
			if got := strings.Fields(last["EXPOSE"]); !slices.Contains(got, "8080") || !slices.Contains(got, "9090") {
				t.Errorf("EXPOSE = %q, want 8080 and 9090", last["EXPOSE"])
			}
			for _, in := range runtime {
				if in.cmd == "RUN" || in.cmd == "ADD" || in.cmd == "VOLUME" {
					t.Errorf("line %d: runtime stage has %s (distroless has no shell; keep it declarative)", in.line, in.cmd)
				}
			}
			for _, in := range ins {
				if strings.Contains(in.args, ":latest") {
					t.Errorf("line %d: %s uses :latest", in.line, in.cmd)
				}
			}
		})
	}
}

// replacedDirs returns the directories go.mod replaces modules with
// ("third_party/gnet", "client", "mte"), without the leading "./".
func replacedDirs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		if _, target, ok := strings.Cut(line, "=> ./"); ok {
			dirs = append(dirs, strings.TrimSpace(target))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("go.mod replaces no module with a directory")
	}
	return dirs
}

// The two Dockerfiles differ only in the architecture name.
func TestDockerfilesDifferOnlyInArch(t *testing.T) {
	amd, err := os.ReadFile("../Dockerfile.amd64")
	if err != nil {
		t.Fatal(err)
	}
	arm, err := os.ReadFile("../Dockerfile.arm64")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(amd), "amd64", "ARCH"); got != strings.ReplaceAll(string(arm), "arm64", "ARCH") {
		t.Error("Dockerfile.amd64 and Dockerfile.arm64 differ beyond the architecture name")
	}
}

func TestPinned(t *testing.T) {
	for img, want := range map[string]bool{
		"golang:1.26.8-bookworm":                       true,
		"gcr.io/distroless/static-debian12:nonroot":    true,
		"gcr.io/distroless/static-debian12@sha256:abc": true,
		"golang":                false,
		"golang:latest":         false,
		"localhost:5000/golang": false,
	} {
		if got := pinned(img); got != want {
			t.Errorf("pinned(%q) = %v, want %v", img, got, want)
		}
	}
}

// The version the Dockerfiles stamp exists in the command.
func TestVersionVariableExists(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "cmd", "socketx", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^var version = "`).Match(data) {
		t.Error(`cmd/socketx/main.go: no 'var version = "..."' for -X main.version`)
	}
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, want := range []string{".git", "deploy/", "**/*_test.go"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd", "*.go"} {
		if slices.Contains(lines, keep) {
			t.Errorf(".dockerignore excludes %q, which the build needs", keep)
		}
	}
}

// jsonArgs is a helper for exec-form instructions.
func jsonArgs(s string) []string {
	var v []string
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

func TestHealthcheckExecForm(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		for _, in := range parseDockerfile(t, "../Dockerfile."+arch) {
			if in.cmd != "HEALTHCHECK" {
				continue
			}
			_, cmd, _ := strings.Cut(in.args, "CMD ")
			if got := jsonArgs(cmd); !slices.Equal(got, []string{"/socketx", "healthcheck"}) {
				t.Errorf("%s: HEALTHCHECK CMD = %q, want exec form [/socketx healthcheck] (no shell in distroless)", arch, cmd)
			}
		}
	}
}
