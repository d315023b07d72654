package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAWS is an aws CLI stand-in: it records each call's arguments, one per
// line, with a "--" line between calls. describe-stacks succeeds only when
// FAKE_STACK_EXISTS=1.
const fakeAWS = `#!/usr/bin/env bash
{ printf '%s\n' "$@"; echo --; } >> "$FAKE_AWS_LOG"
for a in "$@"; do
  if [ "$a" = describe-stacks ] && [ "${FAKE_STACK_EXISTS:-0}" != 1 ] && [ "$*" != "${*/--query/}" ]; then exit 0; fi
  if [ "$a" = describe-stacks ] && [ "${FAKE_STACK_EXISTS:-0}" != 1 ]; then exit 255; fi
done
exit 0
`

func runDeploySh(t *testing.T, exists bool, args ...string) (calls [][]string, out string, code int) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "log")
	cmd := exec.Command(bash, append([]string{"aws/deploy.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "FAKE_AWS_LOG="+log, "AWS_REGION=us-west-2")
	if exists {
		cmd.Env = append(cmd.Env, "FAKE_STACK_EXISTS=1")
	}
	b, err := cmd.CombinedOutput()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	for _, call := range strings.Split(string(data), "--\n") {
		if call != "" {
			calls = append(calls, strings.Split(strings.TrimSuffix(call, "\n"), "\n"))
		}
	}
	return calls, string(b), code
}

func TestDeployShUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"destroy"}, {"create", "a", "b"}} {
		calls, out, code := runDeploySh(t, false, args...)
		if code != 2 || !strings.Contains(out, "usage: deploy.sh create|update|delete [stack-name]") {
			t.Errorf("deploy.sh %q: exit %d, output %q; want exit 2 and the usage", args, code, out)
		}
		if len(calls) != 0 {
			t.Errorf("deploy.sh %q called aws: %q", args, calls)
		}
	}
}

func TestDeployShCreate(t *testing.T) {
	calls, out, code := runDeploySh(t, false, "create", "sx-test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var deploy []string
	for _, c := range calls {
		if len(c) > 3 && c[0] == "cloudformation" && c[3] == "deploy" {
			deploy = c
		}
	}
	if deploy == nil {
		t.Fatalf("no cloudformation deploy call in %q", calls)
	}
	joined := "\n" + strings.Join(deploy, "\n") + "\n"
	for _, want := range []string{
		"\n--region\nus-west-2\n", "\n--stack-name\nsx-test\n", "\n--capabilities\nCAPABILITY_IAM\n",
		"\nSubnetIds=subnet-0123456789abcdef0,subnet-0fedcba9876543210\n",
		"\nDomainMap={\"*\":{\"upstream\":\"ws://example.com\",\"allowedOrigins\":[\"*\"]}}\n",
		"\nLogLevel=warn\n",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("deploy call lacks %q:\n%s", strings.TrimSpace(want), joined)
		}
	}
	// create refuses an existing stack.
	if _, out, code := runDeploySh(t, true, "create", "sx-test"); code != 1 || !strings.Contains(out, "stack sx-test exists; use update") {
		t.Errorf("create on an existing stack: exit %d, %q", code, out)
	}
}

// TestDeployShKeepsEmptyValues: an empty ParameterValue is passed as
// Name= (it resets a parameter to empty), not dropped.
func TestDeployShKeepsEmptyValues(t *testing.T) {
	params := filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(params, []byte(`[{"ParameterKey":"VpcId","ParameterValue":"vpc-1"},{"ParameterKey":"CertificateArn","ParameterValue":""}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARAMS_FILE", params)
	calls, out, code := runDeploySh(t, true, "update", "sx-test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, c := range calls {
		if len(c) > 3 && c[3] == "deploy" {
			if tail := strings.Join(c[len(c)-2:], " "); tail != "VpcId=vpc-1 CertificateArn=" {
				t.Errorf("overrides end %q, want \"VpcId=vpc-1 CertificateArn=\"", tail)
			}
			return
		}
	}
	t.Fatalf("no deploy call in %q", calls)
}

func TestDeployShDelete(t *testing.T) {
	calls, out, code := runDeploySh(t, true, "delete", "sx-test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	want := [][]string{
		{"cloudformation", "--region", "us-west-2", "delete-stack", "--stack-name", "sx-test"},
		{"cloudformation", "--region", "us-west-2", "wait", "stack-delete-complete", "--stack-name", "sx-test"},
	}
	if len(calls) != len(want) {
		t.Fatalf("calls = %q, want %q", calls, want)
	}
	for i := range want {
		if strings.Join(calls[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("call %d = %q, want %q", i, calls[i], want[i])
		}
	}
}
