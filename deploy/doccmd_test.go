package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/socketx/socketx-server/config"
)

// The commands users copy from the documentation. Every fenced sh, bash,
// shell or console block of these files is classified, command by command:
//
//   - helm install|upgrade|template: rendered with helm template and checked
//     with helm lint --strict against ./deploy/helm/socketx, every value flag
//     kept exactly as written;
//   - aws cloudformation deploy|create-stack: parameter names, required
//     parameters and allowed values checked against the template file;
//   - docker run|build: -e names checked against config.Vars (every
//     variable the binary reads) and the Go runtime's, resource flags checked for consistency, build files and
//     build arguments checked against the Dockerfile;
//
// and every block goes through shellcheck -s bash. A block that is not
// meant to be run (an output example) carries, on the line before its
// fence, <!-- doc-test: skip (reason) -->; there is no other way out.
// Fences without a language fail: a diagram is ```text.
var docFiles = []string{"README.md", "docs/DEPLOY.md"}

// repoRoot is where the documented commands run.
const repoRoot = ".."

// docBlock is one fenced block of a Markdown file.
type docBlock struct {
	file string // relative to the repository root
	line int    // line of the opening fence
	lang string
	skip string       // reason of a doc-test: skip marker
	cmds []docCommand // shell commands, continuation lines joined
	body string       // what shellcheck reads (console output removed)
}

// docCommand is one logical command of a block.
type docCommand struct {
	line int    // first line in the file
	text string // as written, backslash-newlines kept
}

func (c docCommand) where(b docBlock) string { return fmt.Sprintf("%s:%d", b.file, c.line) }

var (
	shellLangs = []string{"sh", "bash", "shell", "console"}
	skipMarker = regexp.MustCompile(`^<!-- doc-test: skip \(([^()]+)\) -->$`)
	assignment = regexp.MustCompile(`^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=`)
)

// parseDocBlocks returns the fenced blocks of a Markdown file. Malformed
// markers and fences without a language are errors.
func parseDocBlocks(file string, data []byte) ([]docBlock, []error) {
	var blocks []docBlock
	var errs []error
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if strings.HasPrefix(trimmed, "<!-- doc-test") {
			next := ""
			if i+1 < len(lines) {
				next = strings.TrimSpace(lines[i+1])
			}
			if !skipMarker.MatchString(trimmed) {
				errs = append(errs, fmt.Errorf("%s:%d: malformed marker %q (want <!-- doc-test: skip (reason) -->)", file, i+1, trimmed))
			} else if !strings.HasPrefix(next, "```") {
				errs = append(errs, fmt.Errorf("%s:%d: doc-test marker not on the line before a fence", file, i+1))
			}
			continue
		}
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		b := docBlock{file: file, line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
		if i > 0 {
			if m := skipMarker.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				b.skip = m[1]
			}
		}
		var body []string
		start := i + 2 // line number of the first body line
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			l := lines[i]
			if len(l) >= indent && strings.TrimSpace(l[:indent]) == "" {
				l = l[indent:]
			}
			body = append(body, l)
		}
		if i == len(lines) {
			errs = append(errs, fmt.Errorf("%s:%d: fence never closed", file, b.line))
		}
		if b.lang == "" {
			errs = append(errs, fmt.Errorf("%s:%d: fence without a language (sh/bash/console for commands, text for anything else)", file, b.line))
			continue
		}
		if !slices.Contains(shellLangs, b.lang) {
			if b.skip != "" {
				errs = append(errs, fmt.Errorf("%s:%d: doc-test marker on a %s block, which is never run", file, b.line, b.lang))
			}
			continue
		}
		b.cmds, b.body = splitCommands(body, start, b.lang == "console")
		blocks = append(blocks, b)
	}
	return blocks, errs
}

// splitCommands joins backslash continuations and drops blank and comment
// lines. In console blocks only "$ " lines (and their continuations) are
// commands; the rest is output.
func splitCommands(body []string, firstLine int, console bool) ([]docCommand, string) {
	var cmds []docCommand
	var script strings.Builder
	var cur *docCommand
	for i, l := range body {
		if cur == nil {
			t := strings.TrimSpace(l)
			if console {
				if !strings.HasPrefix(t, "$ ") {
					continue
				}
				t = strings.TrimPrefix(t, "$ ")
			}
			if t == "" || strings.HasPrefix(t, "#") {
				if !console {
					script.WriteString(l + "\n")
				}
				continue
			}
			cmds = append(cmds, docCommand{line: firstLine + i, text: t})
			cur = &cmds[len(cmds)-1]
			script.WriteString(t + "\n")
		} else {
			cur.text += "\n" + l
			script.WriteString(l + "\n")
		}
		if strings.HasSuffix(cur.text, "\\") {
			continue
		}
		cur = nil
	}
	return cmds, script.String()
}

// kind classifies a command by its leading words (after NAME=value words).
func (c docCommand) kind() string {
	f := strings.Fields(strings.ReplaceAll(c.text, "\\\n", " "))
	for len(f) > 0 && assignment.MatchString(f[0]) && !strings.HasPrefix(f[0], "export") {
		f = f[1:]
	}
	at := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	switch {
	case at(0) == "helm" && slices.Contains([]string{"install", "upgrade", "template"}, at(1)):
		return "helm"
	case at(0) == "aws":
		i := slices.Index(f, "cloudformation")
		if i > 0 && slices.Contains([]string{"deploy", "create-stack", "update-stack"}, at(i+1)) {
			return "cloudformation"
		}
	case at(0) == "docker" && (at(1) == "run" || at(1) == "build" || (at(1) == "buildx" && at(2) == "build")):
		return "docker " + map[bool]string{true: "run", false: "build"}[at(1) == "run"]
	case assignment.MatchString(c.text):
		return "assignment"
	}
	return "other"
}

// simpleCommand reports an unquoted |, ;, &, < or > outside $(...): the
// checked commands must be one simple command (and a <placeholder> is a
// redirection that fails when pasted).
func simpleCommand(s string) error {
	var single, double bool
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case single:
			single = c != '\''
		case c == '\\':
			i++
		case c == '\'' && !double:
			single = true
		case c == '"':
			double = !double
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			depth++
			i++
		case c == ')' && depth > 0:
			depth--
		case c == '`':
			return errors.New("backquote command substitution; use $(...)")
		case !double && depth == 0 && strings.IndexByte("|;&<>", c) >= 0:
			return fmt.Errorf("unquoted %q: not one simple command (a <placeholder> is a redirection in a shell)", c)
		}
	}
	return nil
}

// argv expands a command the way bash does, after the block's assignments
// (so a block may define the variables its commands use), with no variable
// of the test's own environment visible: set -u fails on any other.
func argv(prelude []string, c docCommand) ([]string, error) {
	if err := simpleCommand(c.text); err != nil {
		return nil, err
	}
	script := "set -eu\n" + strings.Join(prelude, "\n") + "\nset -- " + c.text + "\nprintf '%s\\0' \"$@\"\n"
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = repoRoot
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "LC_ALL=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bash: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	words := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for len(words) > 0 && assignment.MatchString(words[0]) {
		words = words[1:]
	}
	return words, nil
}

// helmValueFlags are kept exactly as written; helmNameFlags go to helm
// template too; helmIgnoredFlags concern a live cluster only.
var (
	helmValueFlags   = []string{"--set", "--set-json", "--set-string", "--set-file", "--set-literal", "-f", "--values"}
	helmNameFlags    = []string{"-n", "--namespace", "--kube-version"}
	helmIgnoredBool  = []string{"--install", "--create-namespace", "--wait", "--wait-for-jobs", "--atomic", "--reset-then-reuse-values", "--dry-run", "--debug"}
	helmIgnoredValue = []string{"--timeout", "--version"}
)

// helmCheck is what a documented helm command becomes.
type helmCheck struct {
	release   string
	valueArgs []string // value and namespace flags, in order, as written
}

// chartVersion reads version from Chart.yaml.
func chartVersion() (string, error) {
	data, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	var c struct{ Version string }
	if err := yaml.Unmarshal(data, &c); err != nil {
		return "", err
	}
	return c.Version, nil
}

// localChart maps the chart references the docs may use to this chart.
func localChart(ref string) bool {
	switch strings.TrimSuffix(ref, "/") {
	case "deploy/helm/socketx", "./deploy/helm/socketx":
		return true
	}
	return strings.HasPrefix(ref, "oci://") && strings.HasSuffix(ref, "/socketx")
}

// parseHelm turns helm install|upgrade|template argv into a helmCheck.
func parseHelm(args []string) (helmCheck, error) {
	var hc helmCheck
	var pos []string
	version, err := chartVersion()
	if err != nil {
		return hc, err
	}
	generate := false
	for i := 2; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		if !strings.HasPrefix(a, "--") {
			name, hasVal = a, false // short flags take the next word
		}
		next := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s without a value", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case slices.Contains(helmValueFlags, name), slices.Contains(helmNameFlags, name):
			v, err := next()
			if err != nil {
				return hc, err
			}
			hc.valueArgs = append(hc.valueArgs, name, v)
		case name == "--generate-name" || name == "-g":
			generate = true
		case slices.Contains(helmIgnoredBool, name):
		case slices.Contains(helmIgnoredValue, name):
			v, err := next()
			if err != nil {
				return hc, err
			}
			if name == "--version" && v != version {
				return hc, fmt.Errorf("--version %s, but the chart is %s", v, version)
			}
		default:
			return hc, fmt.Errorf("flag %s is not one the documentation check knows (add it to doccmd_test.go if it only concerns a live cluster)", name)
		}
	}
	want := 2
	if generate {
		want = 1
	}
	if len(pos) != want {
		return hc, fmt.Errorf("want [release] chart, got %q", pos)
	}
	if !localChart(pos[len(pos)-1]) {
		return hc, fmt.Errorf("chart %q is not deploy/helm/socketx or its OCI reference", pos[len(pos)-1])
	}
	hc.release = "docs"
	if !generate {
		hc.release = pos[0]
	}
	return hc, nil
}

// runHelm renders and lints the chart as the documented command would.
func runHelm(helm string, hc helmCheck) error {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(helm, args...)
		cmd.Dir = repoRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("helm %s: %s", args[0], strings.TrimSpace(stderr.String()+"\n"+string(out)))
		}
		return out, nil
	}
	chart := filepath.Join("deploy", "helm", "socketx")
	out, err := run(append([]string{"template", hc.release, chart, "--kube-version", clusterVersion}, hc.valueArgs...)...)
	if err != nil {
		return err
	}
	if !bytes.Contains(out, []byte("\nkind: Deployment\n")) {
		return errors.New("helm template rendered no Deployment")
	}
	var lintArgs []string
	for i := 0; i < len(hc.valueArgs); i += 2 {
		if !slices.Contains(helmNameFlags, hc.valueArgs[i]) {
			lintArgs = append(lintArgs, hc.valueArgs[i], hc.valueArgs[i+1])
		}
	}
	_, err = run(append([]string{"lint", "--strict", chart}, lintArgs...)...)
	return err
}

// checkCloudFormation checks aws cloudformation deploy|create-stack|
// update-stack argv against the template it names.
func checkCloudFormation(args []string) error {
	i := slices.Index(args, "cloudformation")
	sub := args[i+1]
	var tplFile string
	given := map[string]string{}
	for j := i + 2; j < len(args); j++ {
		name, val, hasVal := strings.Cut(args[j], "=")
		if !strings.HasPrefix(name, "--") {
			continue
		}
		// Values of list options run to the next option.
		var vals []string
		if hasVal {
			vals = []string{val}
		}
		for j+1 < len(args) && !strings.HasPrefix(args[j+1], "--") {
			j++
			vals = append(vals, args[j])
		}
		switch name {
		case "--template-file":
			if len(vals) != 1 {
				return errors.New("--template-file wants one path")
			}
			tplFile = vals[0]
		case "--template-body":
			if len(vals) != 1 || !strings.HasPrefix(vals[0], "file://") {
				return errors.New("--template-body: want file://<path>")
			}
			tplFile = strings.TrimPrefix(vals[0], "file://")
		case "--parameter-overrides":
			for _, v := range vals {
				if strings.HasPrefix(v, "file://") {
					if err := readParamsFile(strings.TrimPrefix(v, "file://"), given); err != nil {
						return err
					}
					continue
				}
				k, pv, ok := strings.Cut(v, "=")
				if !ok {
					return fmt.Errorf("--parameter-overrides %q: want Key=Value", v)
				}
				given[k] = pv
			}
		case "--parameters":
			for _, v := range vals {
				if strings.HasPrefix(v, "file://") {
					if err := readParamsFile(strings.TrimPrefix(v, "file://"), given); err != nil {
						return err
					}
					continue
				}
				m := regexp.MustCompile(`^ParameterKey=([^,]+),ParameterValue=(.*)$`).FindStringSubmatch(v)
				if m == nil {
					return fmt.Errorf("--parameters %q: want ParameterKey=K,ParameterValue=V", v)
				}
				given[m[1]] = m[2]
			}
		}
	}
	if tplFile == "" {
		return fmt.Errorf("cloudformation %s without --template-file/--template-body", sub)
	}
	params, err := cfnParameters(filepath.Join(repoRoot, tplFile))
	if err != nil {
		return err
	}
	var problems []string
	for k, v := range given {
		decl := params[k]
		if decl == nil {
			problems = append(problems, fmt.Sprintf("%s is not a parameter of %s", k, tplFile))
			continue
		}
		if av := get(decl, "AllowedValues"); av != nil {
			var allowed []string
			for _, c := range av.Content {
				allowed = append(allowed, c.Value)
			}
			if !slices.Contains(allowed, v) {
				problems = append(problems, fmt.Sprintf("%s=%q is not one of %q", k, v, allowed))
			}
		}
	}
	// deploy on an existing stack keeps previous values, but the documented
	// command must also create it.
	for name, decl := range params {
		if _, ok := given[name]; !ok && get(decl, "Default") == nil {
			problems = append(problems, fmt.Sprintf("required parameter %s not given", name))
		}
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func readParamsFile(path string, into map[string]string) error {
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		return err
	}
	var params []struct{ ParameterKey, ParameterValue string }
	if err := json.Unmarshal(data, &params); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for _, p := range params {
		into[p.ParameterKey] = p.ParameterValue
	}
	return nil
}

// cfnParameters reads the Parameters section of a CloudFormation template.
func cfnParameters(path string) (map[string]*yaml.Node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out := map[string]*yaml.Node{}
	if n := get(doc.Content[0], "Parameters"); n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = n.Content[i+1]
		}
	}
	return out, nil
}

// runtimeVars are read by the Go runtime only, not through config.Load
// (GOGC is both: config.Vars has it).
var runtimeVars = []string{"GOMEMLIMIT", "GOMAXPROCS", "GODEBUG"}

func knownVar(name string) bool {
	if slices.Contains(runtimeVars, name) {
		return true
	}
	return slices.ContainsFunc(config.Vars, func(v config.Var) bool { return v.Name == name })
}

// Flags of docker run the docs may use: with a value, and without.
var (
	dockerRunValue = []string{"-w", "--workdir", "--entrypoint", "-e", "--env", "-p", "--publish", "--name", "--ulimit", "-m", "--memory", "--security-opt",
		"--cap-drop", "--cap-add", "--stop-timeout", "-v", "--volume", "--mount", "--network", "--restart", "--cpus", "--tmpfs", "--env-file", "-u", "--user", "--platform"}
	dockerRunBool  = []string{"--rm", "-d", "--detach", "--read-only", "-i", "-t", "-it", "--init"}
	dockerBuildVal = []string{"-f", "--file", "-t", "--tag", "--build-arg", "--platform", "--target"}
)

// parseBytes reads docker's and Go's memory sizes: 2g, 512m, 1740MiB.
func parseBytes(s string) (int64, error) {
	m := regexp.MustCompile(`^([0-9]+)([A-Za-z]*)$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("size %q", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]int64{"": 1, "b": 1, "B": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
	f, ok := mult[m[2]]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit", s)
	}
	return n * f, nil
}

// checkDockerRun checks the variables and the resource flags of docker run.
func checkDockerRun(args []string) error {
	env := map[string]string{}
	flags := map[string]string{}
	var problems []string
	i := 2
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		switch {
		case slices.Contains(dockerRunBool, name) && !hasVal:
		case slices.Contains(dockerRunValue, name):
			if !hasVal {
				if i+1 >= len(args) {
					return fmt.Errorf("%s without a value", name)
				}
				i++
				val = args[i]
			}
			switch name {
			case "-e", "--env":
				k, v, _ := strings.Cut(val, "=")
				if !knownVar(k) {
					problems = append(problems, fmt.Sprintf("-e %s: not a variable of config.Vars or the Go runtime", k))
				}
				env[k] = v
			case "--env-file":
				problems = append(problems, "--env-file: the variables it sets cannot be checked; use -e")
			default:
				flags[strings.TrimLeft(name, "-")] = val
			}
		default:
			return fmt.Errorf("flag %s is not one the documentation check knows", name)
		}
	}
	if i >= len(args) {
		return errors.New("no image")
	}
	if u, ok := flags["ulimit"]; ok {
		m := regexp.MustCompile(`^nofile=([0-9]+):([0-9]+)$`).FindStringSubmatch(u)
		if m == nil {
			problems = append(problems, fmt.Sprintf("--ulimit %q: want nofile=<soft>:<hard>", u))
		} else if s, h := atoiOr0(m[1]), atoiOr0(m[2]); s > h || h > 1<<20 || s < 1024 {
			problems = append(problems, fmt.Sprintf("--ulimit %q: soft must be 1024..hard, hard at most 1048576", u))
		}
	}
	mem := flags["memory"]
	if mem == "" {
		mem = flags["m"]
	}
	if lim, ok := env["GOMEMLIMIT"]; ok {
		l, err := parseBytes(lim)
		m, merr := parseBytes(mem)
		switch {
		case err != nil:
			problems = append(problems, "GOMEMLIMIT: "+err.Error())
		case mem == "":
			problems = append(problems, "GOMEMLIMIT without --memory")
		case merr != nil:
			problems = append(problems, "--memory: "+merr.Error())
		case l >= m:
			problems = append(problems, fmt.Sprintf("GOMEMLIMIT %s is not below --memory %s", lim, mem))
		}
	}
	if st, ok := flags["stop-timeout"]; ok {
		drain := 25
		if d, ok := env["DRAIN_TIMEOUT"]; ok {
			drain = atoiOr0(strings.TrimSuffix(d, "s"))
		}
		if atoiOr0(st) <= drain {
			problems = append(problems, fmt.Sprintf("--stop-timeout %s is not above DRAIN_TIMEOUT (%d s): the drain would be killed", st, drain))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// checkDockerBuild checks that the Dockerfile and context exist and that
// every --build-arg is an ARG of the Dockerfile.
func checkDockerBuild(args []string) error {
	start := 2
	if args[1] == "buildx" {
		start = 3
	}
	file := "Dockerfile"
	var buildArgs, pos []string
	for i := start; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "-") {
			pos = append(pos, args[i])
			continue
		}
		if !strings.HasPrefix(name, "--") {
			hasVal = false
		}
		if !slices.Contains(dockerBuildVal, name) {
			return fmt.Errorf("flag %s is not one the documentation check knows", name)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return fmt.Errorf("%s without a value", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "-f", "--file":
			file = val
		case "--build-arg":
			k, _, _ := strings.Cut(val, "=")
			buildArgs = append(buildArgs, k)
		}
	}
	if len(pos) != 1 {
		return fmt.Errorf("want one build context, got %q", pos)
	}
	if st, err := os.Stat(filepath.Join(repoRoot, pos[0])); err != nil || !st.IsDir() {
		return fmt.Errorf("build context %q is not a directory", pos[0])
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		return err
	}
	for _, a := range buildArgs {
		if !regexp.MustCompile(`(?m)^ARG\s+` + regexp.QuoteMeta(a) + `(=|\s|$)`).Match(data) {
			return fmt.Errorf("--build-arg %s: %s declares no ARG %s", a, file, a)
		}
	}
	return nil
}

// shellcheck runs shellcheck -s bash on a block; "" when it is clean.
func shellcheck(sc string, b docBlock) string {
	cmd := exec.Command(sc, "-s", "bash", "-f", "gcc", "-")
	cmd.Stdin = strings.NewReader(b.body)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// docRun is the outcome of one documented command, for the log.
type docRun struct {
	where, kind, text, result string
}

func TestDocCommands(t *testing.T) {
	helm := helmBinary(t)
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("SOCKETX_REQUIRE_HELM") == "1" {
			t.Fatal("shellcheck not found (make deploy-tools installs it)")
		}
		t.Skip("shellcheck not installed (make deploy-tools installs it)")
	}
	var runs []docRun
	for _, file := range docFiles {
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		blocks, errs := parseDocBlocks(file, data)
		for _, err := range errs {
			t.Error(err)
		}
		for _, b := range blocks {
			if b.skip != "" {
				runs = append(runs, docRun{fmt.Sprintf("%s:%d", b.file, b.line), "skipped", "(" + b.skip + ")", "skipped"})
				continue
			}
			if len(b.cmds) == 0 {
				t.Errorf("%s:%d: %s block without a command: mark it <!-- doc-test: skip (output) --> if it is output", b.file, b.line, b.lang)
			}
			if out := shellcheck(sc, b); out != "" {
				t.Errorf("%s:%d: shellcheck -s bash (line numbers relative to the block):\n%s", b.file, b.line+1, out)
			}
			var prelude []string
			for _, c := range b.cmds {
				k := c.kind()
				r := docRun{c.where(b), k, firstLine(c.text), "ok"}
				var err error
				switch k {
				case "assignment":
					prelude = append(prelude, c.text)
					r.kind, r.result = "other", "shellcheck"
				case "other":
					r.result = "shellcheck"
				default:
					var args []string
					args, err = argv(prelude, c)
					if err == nil {
						switch k {
						case "helm":
							var hc helmCheck
							if hc, err = parseHelm(args); err == nil {
								err = runHelm(helm, hc)
							}
							r.result = "helm template + lint --strict: ok"
						case "cloudformation":
							err = checkCloudFormation(args)
						case "docker run":
							err = checkDockerRun(args)
						case "docker build":
							err = checkDockerBuild(args)
						}
					}
				}
				if err != nil {
					r.result = "FAIL"
					t.Errorf("%s: %s: %s\n  command: %s", c.where(b), k, err, c.text)
				}
				runs = append(runs, r)
			}
		}
	}
	for _, r := range runs {
		t.Logf("%-22s %-14s %-40.40s %s", r.where, r.kind, r.text, r.result)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(strings.TrimSpace(l), "\\")
}

// The checkers themselves: each accepts the documented form and names the
// problem in a wrong one.
func TestDocCheckers(t *testing.T) {
	md := "text\n<!-- doc-test: skip (output) -->\n```console\n$ socketx version\nsocketx 0.1.0\n```\n" +
		"```sh\n# comment\nA=1\nhelm install x deploy/helm/socketx \\\n  --set a=b\ncurl x\n```\n```go\nx := 1\n```\n```\nbare\n```\n<!-- doc-test: run -->\n```sh\nls\n```\n"
	blocks, errs := parseDocBlocks("t.md", []byte(md))
	if len(blocks) != 3 || blocks[0].skip != "output" || blocks[0].line != 3 {
		t.Fatalf("blocks = %+v", blocks)
	}
	var kinds []string
	for _, c := range blocks[1].cmds {
		kinds = append(kinds, fmt.Sprintf("%d:%s", c.line, c.kind()))
	}
	if want := []string{"9:assignment", "10:helm", "12:other"}; !slices.Equal(kinds, want) {
		t.Errorf("commands = %q, want %q", kinds, want)
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "t.md:17: fence without a language") || !strings.Contains(errs[1].Error(), "t.md:20: malformed marker") {
		t.Errorf("errs = %v", errs)
	}

	for _, tc := range []struct {
		args []string
		want string // "" = accepted
	}{
		{[]string{"aws", "cloudformation", "deploy", "--template-file", "deploy/aws/template.yaml", "--stack-name", "s",
			"--parameter-overrides", "VpcId=vpc-1", "SubnetIds=subnet-1,subnet-2", "DomainMap={}", "Image=x", "LogLevel=debug", "--capabilities", "CAPABILITY_IAM"}, ""},
		{[]string{"aws", "cloudformation", "deploy", "--template-file", "deploy/aws/template.yaml", "--stack-name", "s",
			"--parameter-overrides", "VpcId=vpc-1", "SubnetIds=subnet-1,subnet-2", "DomainMap={}", "Image=x", "LogLevel=loud", "Colour=red"},
			`Colour is not a parameter of deploy/aws/template.yaml; LogLevel="loud" is not one of`},
		{[]string{"aws", "cloudformation", "deploy", "--template-file", "deploy/aws/template.yaml", "--parameter-overrides", "Image=x"},
			"required parameter DomainMap not given"},
		{[]string{"aws", "cloudformation", "create-stack", "--template-body", "file://deploy/aws/template.yaml", "--stack-name", "s",
			"--parameters", "file://deploy/aws/parameters.json"}, ""},
		{[]string{"aws", "cloudformation", "create-stack", "--template-body", "file://deploy/aws/nope.yaml"}, "no such file"},
		{[]string{"docker", "run", "--rm", "-e", "DOMAIN_MAP={}", "-e", "BILLING_STRATEGY=x", "-e", "GOGC=50", "img"}, ""},
		{[]string{"docker", "run", "-e", "DOMAINMAP={}", "img"}, "-e DOMAINMAP: not a variable"},
		{[]string{"docker", "run", "--ulimit", "nofile=2000000:1000", "img"}, "--ulimit \"nofile=2000000:1000\""},
		{[]string{"docker", "run", "--memory", "1g", "-e", "GOMEMLIMIT=1GiB", "img"}, "GOMEMLIMIT 1GiB is not below --memory 1g"},
		{[]string{"docker", "run", "--stop-timeout", "20", "img"}, "--stop-timeout 20 is not above DRAIN_TIMEOUT (25 s)"},
		{[]string{"docker", "run", "--privileged", "img"}, "flag --privileged is not one"},
		{[]string{"docker", "build", "-f", "Dockerfile.arm64", "--build-arg", "VERSION=1", "-t", "x", "."}, ""},
		{[]string{"docker", "build", "-f", "Dockerfile.arm64", "--build-arg", "FLAVOUR=1", "."}, "declares no ARG FLAVOUR"},
	} {
		var err error
		switch {
		case tc.args[0] == "aws":
			err = checkCloudFormation(tc.args)
		case tc.args[1] == "run":
			err = checkDockerRun(tc.args)
		default:
			err = checkDockerBuild(tc.args)
		}
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.want)
		}
	}

	for text, want := range map[string]string{
		`helm install x deploy/helm/socketx --set-string domainMapBase64="$(printf '%s' "$M" | base64 -w0)"`: "",
		`helm install x deploy/helm/socketx --set image.tag=<version>`:                                       "unquoted '<'",
		`helm install x deploy/helm/socketx | tee out`:                                                       "unquoted '|'",
		`docker run -e 'A=x|y' img`:                                                                          "",
	} {
		if err := simpleCommand(text); (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("simpleCommand(%q) = %v, want %q", text, err, want)
		}
	}
	args, err := argv([]string{`M='{"a":1}'`}, docCommand{text: "helm install x \\\n  deploy/helm/socketx --set-json \"m=$M\""})
	if err != nil || !slices.Equal(args, []string{"helm", "install", "x", "deploy/helm/socketx", "--set-json", `m={"a":1}`}) {
		t.Errorf("argv = %q, %v", args, err)
	}
	if _, err := argv(nil, docCommand{text: "helm install x deploy/helm/socketx --set a=$UNSET"}); err == nil || !strings.Contains(err.Error(), "UNSET: unbound variable") {
		t.Errorf("undefined variable: err = %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"helm", "upgrade", "--install", "r", "oci://ghcr.io/socketx/charts/socketx", "--version", "0.1.0", "-n", "ns", "-f", "v.yaml", "--set=a=b"}, ""},
		{[]string{"helm", "install", "r", "bitnami/nginx"}, "is not deploy/helm/socketx"},
		{[]string{"helm", "install", "r", "deploy/helm/socketx", "--version", "9.9.9"}, "--version 9.9.9, but the chart is"},
		{[]string{"helm", "install", "r", "deploy/helm/socketx", "--post-renderer", "x"}, "flag --post-renderer is not one"},
	} {
		hc, err := parseHelm(tc.args)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("parseHelm(%q) = %v, want %q", tc.args, err, tc.want)
		}
		if err == nil && (hc.release != "r" || !slices.Equal(hc.valueArgs, []string{"-n", "ns", "-f", "v.yaml", "--set", "a=b"})) {
			t.Errorf("parseHelm(%q) = %+v", tc.args, hc)
		}
	}
}
