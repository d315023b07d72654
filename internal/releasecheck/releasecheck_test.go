package releasecheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The names every release artifact is published under.
const (
	imageName  = "ghcr.io/socketx/socketx-server"
	chartRepo  = "oci://ghcr.io/socketx/charts"
	chartName  = "socketx"
	npmPackage = "@socketx/client"
	repoURL    = "https://github.com/socketx/socketx-server"
	goModule   = "github.com/socketx/socketx-server"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("releasecheck: %v", err)
	}
	return string(b)
}

func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(read(t, rel)), v); err != nil {
		t.Fatalf("releasecheck: %s: %v", rel, err)
	}
}

// semver is MAJOR.MINOR.PATCH, no pre-release or build suffix.
var semver = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// version is the single source of truth: the root VERSION file.
func version(t *testing.T) string {
	t.Helper()
	v := strings.TrimSpace(read(t, "VERSION"))
	if !semver.MatchString(v) {
		t.Fatalf("VERSION = %q, want MAJOR.MINOR.PATCH", v)
	}
	return v
}

// compareSemver returns -1, 0 or 1; both arguments match semver.
func compareSemver(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range 3 {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func TestChartVersionsAreVERSION(t *testing.T) {
	v := version(t)
	var chart struct {
		Name       string `yaml:"name"`
		Version    string `yaml:"version"`
		AppVersion string `yaml:"appVersion"`
	}
	readYAML(t, "deploy/helm/socketx/Chart.yaml", &chart)
	if chart.Name != chartName {
		t.Errorf("Chart.yaml name = %q, want %q (the workflow pushes %s/%s)", chart.Name, chartName, chartRepo, chartName)
	}
	if chart.Version != v {
		t.Errorf("Chart.yaml version = %q, VERSION = %q", chart.Version, v)
	}
	if chart.AppVersion != v {
		t.Errorf("Chart.yaml appVersion = %q, VERSION = %q (the chart's default image tag)", chart.AppVersion, v)
	}
}

func TestNPMPackageIsVERSION(t *testing.T) {
	v := version(t)
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Private *bool  `json:"private"`
		License string `json:"license"`
	}
	if err := json.Unmarshal([]byte(read(t, "sdk/js/package.json")), &pkg); err != nil {
		t.Fatalf("sdk/js/package.json: %v", err)
	}
	if pkg.Name != npmPackage {
		t.Errorf("sdk/js/package.json name = %q, want %q", pkg.Name, npmPackage)
	}
	if pkg.Version != v {
		t.Errorf("sdk/js/package.json version = %q, VERSION = %q", pkg.Version, v)
	}
	if pkg.Private != nil && *pkg.Private {
		t.Error(`sdk/js/package.json has "private": true; npm publish would refuse it`)
	}
	if pkg.License != "Apache-2.0" {
		t.Errorf("sdk/js/package.json license = %q, want Apache-2.0 (LICENSE)", pkg.License)
	}
	var lock struct {
		Name     string `json:"name"`
		Version  string `json:"version"`
		Packages map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(read(t, "sdk/js/package-lock.json")), &lock); err != nil {
		t.Fatalf("sdk/js/package-lock.json: %v", err)
	}
	if lock.Name != npmPackage || lock.Version != v || lock.Packages[""].Name != npmPackage || lock.Packages[""].Version != v {
		t.Errorf("sdk/js/package-lock.json names %s@%s (root package %s@%s), want %s@%s: run npm install --package-lock-only in sdk/js",
			lock.Name, lock.Version, lock.Packages[""].Name, lock.Packages[""].Version, npmPackage, v)
	}
}

// The package name users install is the one the demo page and the docs show.
func TestNPMPackageNameInDocs(t *testing.T) {
	for _, rel := range []string{"internal/demopage/static/index.html", "sdk/js/README.md", "README.md"} {
		if !strings.Contains(read(t, rel), npmPackage) {
			t.Errorf("%s does not name the npm package %s", rel, npmPackage)
		}
	}
	// Any other @socketx/ package named anywhere in them would not exist.
	other := regexp.MustCompile(`@socketx/[a-z0-9._-]+`)
	for _, rel := range []string{"internal/demopage/static/index.html", "sdk/js/README.md", "README.md", "docs/DEPLOY.md", "CHANGELOG.md", "SECURITY.md"} {
		for _, m := range other.FindAllString(read(t, rel), -1) {
			if m != npmPackage {
				t.Errorf("%s names %s; the published package is %s", rel, m, npmPackage)
			}
		}
	}
}

// imageRef finds image references to socketx-server: a name with a tag or a
// digest, e.g. ghcr.io/socketx/socketx-server:0.1.0 or socketx-server:amd64.
// URLs and Go import paths (github.com/socketx/socketx-server/...) have no
// ':' or '@' after the name and are not matched.
var imageRef = regexp.MustCompile(`[A-Za-z0-9._/<>${}-]*socketx-server[:@]`)

// ownRegistry is a copy of the image in the reader's own registry, named by
// a shell variable or a placeholder: $REGISTRY/socketx-server,
// ${REGISTRY}/socketx-server, <registry>/socketx-server.
var ownRegistry = regexp.MustCompile(`^(\$[A-Z_]+|\$\{[A-Z_]+\}|<[a-z-]+>)/socketx-server$`)

// Every image reference in the Dockerfiles' comments and the docs uses the
// published name, and each of them names it.
func TestImageNameInDocs(t *testing.T) {
	for _, rel := range []string{"Dockerfile.amd64", "Dockerfile.arm64", "README.md", "docs/DEPLOY.md"} {
		text := read(t, rel)
		if !strings.Contains(text, imageName) {
			t.Errorf("%s does not name the image %s", rel, imageName)
		}
		for _, m := range imageRef.FindAllString(text, -1) {
			if name := m[:len(m)-1]; name != imageName && !ownRegistry.MatchString(name) {
				t.Errorf("%s refers to the image as %q, want %s (or $REGISTRY/socketx-server for a copy)", rel, name, imageName)
			}
		}
	}
}

// Versions written out in the docs are VERSION: an image tag, the npm
// package, the chart. A release bumps them all (docs/DEPLOY.md, Releasing).
var docVersions = []*regexp.Regexp{
	regexp.MustCompile(regexp.QuoteMeta(imageName) + `:v?([0-9]+\.[0-9]+\.[0-9]+)`),
	regexp.MustCompile(regexp.QuoteMeta(npmPackage) + `@v?([0-9]+\.[0-9]+\.[0-9]+)`),
	regexp.MustCompile(regexp.QuoteMeta(chartRepo+"/"+chartName) + ` --version v?([0-9]+\.[0-9]+\.[0-9]+)`),
	regexp.MustCompile(`git tag -a v([0-9]+\.[0-9]+\.[0-9]+)`),
	// The Go modules' tags and go get lines.
	regexp.MustCompile(`\b(?:client|mte)/v([0-9]+\.[0-9]+\.[0-9]+)`),
	regexp.MustCompile(regexp.QuoteMeta(goModule) + `/(?:client|mte)@v([0-9]+\.[0-9]+\.[0-9]+)`),
}

// TestGoModulesAreVERSION: the Go SDK's modules (client/go.mod,
// mte/go.mod) are released under tags client/v<VERSION> and
// mte/v<VERSION> with the release tag; client/go.mod requires the mte of
// the same release, the server's go.mod names both at that version (it
// replaces them with their directories), the Releasing steps tag both and
// the release workflow tests both modules.
func TestGoModulesAreVERSION(t *testing.T) {
	v := "v" + version(t)
	for rel, mods := range map[string][]string{
		"client/go.mod": {goModule + "/mte"},
		"go.mod":        {goModule + "/client", goModule + "/mte"},
	} {
		text := read(t, rel)
		for _, mod := range mods {
			if !regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(mod) + ` ` + regexp.QuoteMeta(v) + `\b`).MatchString(text) {
				t.Errorf("%s: want require %s %s (VERSION)", rel, mod, v)
			}
		}
	}
	deploy := read(t, "docs/DEPLOY.md")
	for _, tag := range []string{"v", "mte/v", "client/v"} {
		if !strings.Contains(deploy, "git tag -a "+tag+version(t)+" ") {
			t.Errorf("docs/DEPLOY.md: Releasing does not tag %s%s", tag, version(t))
		}
	}
	if want := "git push origin v" + version(t) + " mte/v" + version(t) + " client/v" + version(t); !strings.Contains(deploy, want) {
		t.Errorf("docs/DEPLOY.md: Releasing does not run %q", want)
	}
	if wf := read(t, ".github/workflows/release.yml"); !strings.Contains(wf, "go test -count=1 ./... ./client/... ./mte/...") {
		t.Error("release.yml: the tests step does not test ./client/... and ./mte/... (modules of their own: ./... skips them)")
	}
}

func TestVersionsInDocs(t *testing.T) {
	v := version(t)
	for _, rel := range []string{"README.md", "docs/DEPLOY.md", "sdk/js/README.md", "SECURITY.md"} {
		text := read(t, rel)
		for _, re := range docVersions {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				if m[1] != v {
					t.Errorf("%s: %q, but VERSION is %s", rel, m[0], v)
				}
			}
		}
	}
}

func TestChartDefaultImage(t *testing.T) {
	var values struct {
		Image struct {
			Repository string `yaml:"repository"`
			Tag        string `yaml:"tag"`
		} `yaml:"image"`
	}
	readYAML(t, "deploy/helm/socketx/values.yaml", &values)
	if values.Image.Repository != imageName {
		t.Errorf("values.yaml image.repository = %q, want %s", values.Image.Repository, imageName)
	}
	if values.Image.Tag != "" {
		t.Errorf("values.yaml image.tag = %q, want empty (the chart's appVersion, = VERSION)", values.Image.Tag)
	}
}

// The CloudFormation template's Image parameter defaults to the published
// image of this version. The template is parsed as nodes: its !Ref and !Sub
// tags are not plain YAML.
func TestCloudFormationDefaultImage(t *testing.T) {
	v := version(t)
	var doc yaml.Node
	readYAML(t, "deploy/aws/template.yaml", &doc)
	param := lookup(lookup(lookup(doc.Content[0], "Parameters"), "Image"), "Default")
	if param == nil {
		// Added by the ECS work; until it lands there is nothing to compare.
		t.Skipf("deploy/aws/template.yaml: parameter Image has no Default yet (expected %s:%s)", imageName, v)
	}
	if want := imageName + ":" + v; param.Value != want {
		t.Errorf("deploy/aws/template.yaml Image default = %q, want %q", param.Value, want)
	}
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// workflow is the part of a GitHub Actions workflow these tests read.
type workflow struct {
	On          yaml.Node         `yaml:"on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]struct {
		Permissions yaml.Node `yaml:"permissions"`
		Steps       []struct {
			Uses string `yaml:"uses"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func TestReleaseWorkflow(t *testing.T) {
	var wf workflow
	readYAML(t, ".github/workflows/release.yml", &wf)
	if got := lookup(&wf.On, "push"); got == nil || !strings.Contains(nodeText(t, got), `"v*"`) {
		t.Errorf("release.yml must run on push of tags v*, got on: %s", nodeText(t, &wf.On))
	}
	if wf.Env["IMAGE"] != imageName {
		t.Errorf("release.yml pushes the image to %q, want %s", wf.Env["IMAGE"], imageName)
	}
	if wf.Env["CHART_REPO"] != chartRepo {
		t.Errorf("release.yml pushes the chart to %q, want %s", wf.Env["CHART_REPO"], chartRepo)
	}
	// Least privilege: nothing at the top, each job asks for what it needs.
	if wf.Permissions.Kind != yaml.MappingNode || len(wf.Permissions.Content) != 0 {
		t.Errorf("release.yml: top-level permissions must be {}, got %s", nodeText(t, &wf.Permissions))
	}
	for name, job := range wf.Jobs {
		if job.Permissions.Kind == 0 {
			t.Errorf("release.yml: job %s has no permissions block", name)
		}
	}
	var all strings.Builder
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			all.WriteString(s.Run)
			all.WriteByte('\n')
		}
	}
	runs := all.String()
	// The binaries are built as the Makefile's build target builds them.
	mk := read(t, "Makefile")
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.version=`} {
		if !strings.Contains(mk, flag) {
			t.Errorf("Makefile build no longer uses %s; update release.yml and this test together", flag)
		}
		if !strings.Contains(runs, flag) {
			t.Errorf("release.yml does not build with %s (the Makefile's build flags)", flag)
		}
	}
	for _, want := range []string{
		"Dockerfile.${arch}", "linux/${arch}", // both Dockerfiles
		`imagetools create -t "${IMAGE}:${VERSION}"`, // the manifest list
		"sha256sum", "npm publish --provenance", "helm\" package deploy/helm/socketx", "push \"dist/socketx-${VERSION}.tgz\" \"$CHART_REPO\"",
	} {
		if !strings.Contains(runs, want) {
			t.Errorf("release.yml: no step runs %s", want)
		}
	}
}

func TestCIWorkflowRunsCIScript(t *testing.T) {
	var wf workflow
	readYAML(t, ".github/workflows/ci.yml", &wf)
	found := false
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if strings.TrimSpace(s.Run) == "bash .ci/run" {
				found = true
			}
		}
	}
	if !found {
		t.Error("ci.yml has no step running `bash .ci/run`")
	}
}

// usesRef is owner/repo[/path]@ref. A ref is a full commit SHA or a major
// version tag; branches (main, master) and minor tags are refused.
var usesRef = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(?:[0-9a-f]{40}|v[0-9]+)$`)

func TestActionsArePinned(t *testing.T) {
	for _, rel := range []string{".github/workflows/release.yml", ".github/workflows/ci.yml"} {
		var wf workflow
		readYAML(t, rel, &wf)
		for name, job := range wf.Jobs {
			for _, s := range job.Steps {
				if s.Uses != "" && !usesRef.MatchString(s.Uses) {
					t.Errorf("%s job %s: uses %q, want a full commit SHA or a major version (@vN)", rel, name, s.Uses)
				}
			}
		}
	}
}

func nodeText(t *testing.T, n *yaml.Node) string {
	t.Helper()
	b, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// changelogRelease is a "## [x.y.z] - YYYY-MM-DD" heading of Keep a Changelog.
var changelogRelease = regexp.MustCompile(`(?m)^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$`)

// changelogReleases returns the released versions, newest first, and
// whether an Unreleased section exists.
func changelogReleases(t *testing.T, text string) (versions []string, unreleased bool) {
	t.Helper()
	for _, m := range changelogRelease.FindAllStringSubmatch(text, -1) {
		if m[1] == "Unreleased" {
			if len(versions) > 0 {
				t.Error("CHANGELOG.md: [Unreleased] must come before every release")
			}
			unreleased = true
			continue
		}
		if !semver.MatchString(m[1]) || m[2] == "" {
			t.Errorf("CHANGELOG.md: heading %q, want \"## [MAJOR.MINOR.PATCH] - YYYY-MM-DD\"", strings.TrimSpace(m[0]))
			continue
		}
		if !strings.Contains(text, "\n["+m[1]+"]: ") {
			t.Errorf("CHANGELOG.md: no link reference [%s]: at the end", m[1])
		}
		versions = append(versions, m[1])
	}
	for i := 1; i < len(versions); i++ {
		if compareSemver(versions[i-1], versions[i]) <= 0 {
			t.Errorf("CHANGELOG.md: %s is listed above %s; newest first", versions[i-1], versions[i])
		}
	}
	return versions, unreleased
}

// Between releases VERSION is the next version: the newest CHANGELOG release
// is VERSION (a release commit) or older. When the release workflow runs
// (SOCKETX_RELEASE_TAG set) the tag must be v<VERSION> and the newest
// CHANGELOG release must be VERSION.
func TestChangelogAndTag(t *testing.T) {
	v := version(t)
	text := read(t, "CHANGELOG.md")
	releases, unreleased := changelogReleases(t, text)
	if !unreleased {
		t.Error("CHANGELOG.md has no ## [Unreleased] section (Keep a Changelog keeps one, even if empty)")
	}
	if len(releases) > 0 && compareSemver(releases[0], v) > 0 {
		t.Errorf("CHANGELOG.md's newest release %s is newer than VERSION %s", releases[0], v)
	}
	tag, strict := os.LookupEnv("SOCKETX_RELEASE_TAG")
	if !strict {
		return
	}
	if tag != "v"+v {
		t.Errorf("tag %q, VERSION %q: the tag must be v%s", tag, v, v)
	}
	if len(releases) == 0 || releases[0] != v {
		t.Errorf("CHANGELOG.md has no \"## [%s] - YYYY-MM-DD\" section above the older releases: move the Unreleased entries there before tagging", v)
	}
}

// The checks above must be able to fail: run them on altered copies.
func TestChangelogHeadingsParse(t *testing.T) {
	text := "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2027-01-02\n\n## [0.1.0] - 2026-12-01\n\n" +
		"[Unreleased]: x\n[0.2.0]: y\n[0.1.0]: z\n"
	got, unreleased := changelogReleases(t, text)
	if !unreleased || strings.Join(got, ",") != "0.2.0,0.1.0" {
		t.Errorf("changelogReleases = %v, %v", got, unreleased)
	}
	for _, bad := range []string{"Dockerfile comment -t socketx-server:amd64", "image: docker.io/socketx/socketx-server:1"} {
		m := imageRef.FindString(bad)
		if m == "" || m[:len(m)-1] == imageName {
			t.Errorf("imageRef did not flag %q", bad)
		}
	}
	for _, ok := range []string{"github.com/socketx/socketx-server/client", repoURL + ".git", "socketx-server image"} {
		if m := imageRef.FindString(ok); m != "" {
			t.Errorf("imageRef matched %q in %q", m, ok)
		}
	}
	for name, want := range map[string]bool{
		"$REGISTRY/socketx-server":          true,
		"${REGISTRY}/socketx-server":        true,
		"<registry>/socketx-server":         true,
		"socketx-server":                    false,
		"docker.io/socketx/socketx-server":  false,
		"$REGISTRY/socketx/socketx-server2": false,
	} {
		if ownRegistry.MatchString(name) != want {
			t.Errorf("ownRegistry(%q) = %v, want %v", name, !want, want)
		}
	}
	var cfn yaml.Node
	if err := yaml.Unmarshal([]byte("Parameters:\n  Image:\n    Type: String\n    Default: "+imageName+":1.2.3\n"+
		"Resources:\n  Task:\n    Properties:\n      Image: !Ref Image\n"), &cfn); err != nil {
		t.Fatal(err)
	}
	if d := lookup(lookup(lookup(cfn.Content[0], "Parameters"), "Image"), "Default"); d == nil || d.Value != imageName+":1.2.3" {
		t.Errorf("lookup of Parameters.Image.Default = %v", d)
	}
	for ref, want := range map[string]bool{
		"actions/checkout@v6": true,
		"actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683": true,
		"actions/checkout@main":   false,
		"actions/checkout@v6.0.1": false,
		"./local-action":          false,
	} {
		if usesRef.MatchString(ref) != want {
			t.Errorf("usesRef(%q) = %v, want %v", ref, !want, want)
		}
	}
}
