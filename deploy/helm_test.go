package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const chartDir = "helm/socketx"

// helmBinary finds helm on PATH or in GOPATH/bin (where deploy-check
// installs it). Without it the test skips, unless SOCKETX_REQUIRE_HELM=1
// (set by deploy-check) makes that a failure.
func helmBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("SOCKETX_REQUIRE_HELM") == "1" {
		t.Fatal("helm not found and SOCKETX_REQUIRE_HELM=1")
	}
	t.Skip("helm not installed (make deploy-check installs it)")
	return ""
}

// render runs helm template and returns the manifests by "Kind/name".
func render(t *testing.T, helm string, args ...string) map[string]map[string]any {
	t.Helper()
	out, err := helmTemplate(helm, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	docs := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered YAML: %v", err)
		}
		if m == nil {
			continue
		}
		docs[m["kind"].(string)+"/"+dig(m, "metadata", "name").(string)] = m
	}
	return docs
}

// clusterVersion is the Kubernetes version helm template renders for:
// without a cluster it assumes 1.20, below the chart's kubeVersion. A later
// --kube-version in args wins.
const clusterVersion = "1.30.0"

func helmTemplate(helm string, args ...string) ([]byte, error) {
	cmd := exec.Command(helm, append([]string{"template", "rel", chartDir, "--kube-version", clusterVersion}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// dig follows map keys and list indexes ("0").
func dig(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := int(k[0] - '0')
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func envMap(c any) map[string]string {
	out := map[string]string{}
	for _, e := range dig(c, "env").([]any) {
		out[dig(e, "name").(string)], _ = dig(e, "value").(string)
	}
	return out
}

func checkPodSpec(t *testing.T, dep map[string]any) (container any, env map[string]string) {
	t.Helper()
	pod := dig(dep, "spec", "template", "spec")
	psc := dig(pod, "securityContext")
	if dig(psc, "runAsNonRoot") != true || dig(psc, "runAsUser") != 65532 || dig(psc, "seccompProfile", "type") != "RuntimeDefault" {
		t.Errorf("pod securityContext = %v", psc)
	}
	c := dig(pod, "containers", "0")
	sc := dig(c, "securityContext")
	if dig(sc, "readOnlyRootFilesystem") != true || dig(sc, "allowPrivilegeEscalation") != false ||
		dig(sc, "runAsNonRoot") != true || dig(sc, "runAsUser") != 65532 ||
		dig(sc, "seccompProfile", "type") != "RuntimeDefault" || !slices.Equal(toStrings(dig(sc, "capabilities", "drop")), []string{"ALL"}) {
		t.Errorf("container securityContext = %v", sc)
	}
	if dig(c, "livenessProbe", "httpGet", "path") != "/health" || dig(c, "livenessProbe", "httpGet", "port") != "http" {
		t.Errorf("livenessProbe = %v", dig(c, "livenessProbe"))
	}
	if dig(c, "readinessProbe", "httpGet", "path") != "/ready" || dig(c, "readinessProbe", "httpGet", "port") != "http" ||
		dig(c, "readinessProbe", "failureThreshold") != 3 || dig(c, "readinessProbe", "periodSeconds") != 2 {
		t.Errorf("readinessProbe = %v", dig(c, "readinessProbe"))
	}
	if dig(c, "ports", "0", "name") != "http" || dig(c, "ports", "0", "containerPort") != 8080 ||
		dig(c, "ports", "1", "name") != "metrics" || dig(c, "ports", "1", "containerPort") != 9090 {
		t.Errorf("ports = %v", dig(c, "ports"))
	}
	env = envMap(c)
	if env["ADMIN_LISTEN"] != "0.0.0.0:9090" || env["LISTEN_PORT"] != "8080" || env["DRAIN_TIMEOUT"] != "25s" {
		t.Errorf("env = %v", env)
	}
	mount := dig(c, "volumeMounts", "0", "mountPath").(string)
	if env["DOMAIN_MAP_FILE"] != mount+"/domain-map.json" || dig(c, "volumeMounts", "0", "subPath") != nil {
		t.Errorf("DOMAIN_MAP_FILE %q must be domain-map.json in the mounted directory %q (no subPath: hot reload)", env["DOMAIN_MAP_FILE"], mount)
	}
	if grace := dig(pod, "terminationGracePeriodSeconds").(int); grace <= 25+10 {
		t.Errorf("terminationGracePeriodSeconds = %d, want above preStop 10 s + DRAIN_TIMEOUT 25 s", grace)
	}
	if dig(c, "lifecycle", "preStop", "sleep", "seconds") != 10 {
		t.Errorf("preStop = %v", dig(c, "lifecycle", "preStop"))
	}
	if dig(dep, "spec", "template", "metadata", "labels", "azure-extensions-usage-release-identifier") != "rel" {
		t.Error("pod label azure-extensions-usage-release-identifier must be the release name")
	}
	ann, _ := dig(dep, "spec", "template", "metadata", "annotations").(map[string]any)
	for k := range ann {
		if strings.HasPrefix(k, "checksum/") {
			t.Errorf("pod annotation %s restarts pods on DOMAIN_MAP changes; the map is hot-reloaded", k)
		}
	}
	if len(dig(pod, "topologySpreadConstraints").([]any)) == 0 {
		t.Error("no topologySpreadConstraints")
	}
	if dig(c, "resources", "limits", "memory") == nil || dig(c, "resources", "requests", "cpu") == nil {
		t.Errorf("resources = %v", dig(c, "resources"))
	}
	if env["GOMEMLIMIT"] == "" {
		t.Error("GOMEMLIMIT not set from the memory limit")
	}
	return c, env
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestHelmDefaultValues(t *testing.T) {
	helm := helmBinary(t)
	docs := render(t, helm)
	var kinds []string
	for k := range docs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	want := []string{"ConfigMap/rel-socketx-domain-map", "Deployment/rel-socketx", "PodDisruptionBudget/rel-socketx",
		"Service/rel-socketx", "Service/rel-socketx-metrics", "ServiceAccount/rel-socketx"}
	if !slices.Equal(kinds, want) {
		t.Errorf("rendered %q, want %q", kinds, want)
	}
	dep := docs["Deployment/rel-socketx"]
	_, env := checkPodSpec(t, dep)
	if env["BILLING_STRATEGY"] != "eclypses_no_billing" || env["GOMEMLIMIT"] != "912680550" {
		t.Errorf("default env = %v", env)
	}
	if got := dig(docs["ConfigMap/rel-socketx-domain-map"], "data", "domain-map.json"); got != `{"*": {"upstream": "ws://your-upstream-service", "allowedOrigins": ["*"]}}` {
		t.Errorf("ConfigMap domain-map.json = %q", got)
	}
	if dig(docs["Service/rel-socketx"], "spec", "ports", "0", "port") != 8080 || dig(docs["Service/rel-socketx"], "spec", "ports", "1") != nil {
		t.Error("public Service must expose only the http port 8080")
	}
	// One replica: no PodDisruptionBudget.
	if _, ok := render(t, helm, "--set", "replicaCount=1")["PodDisruptionBudget/rel-socketx"]; ok {
		t.Error("PodDisruptionBudget rendered with replicaCount=1")
	}
}

func TestHelmFullValues(t *testing.T) {
	helm := helmBinary(t)
	docs := render(t, helm, "-f", chartDir+"/ci/full-values.yaml")
	dep := docs["Deployment/rel-socketx"]
	if dep == nil {
		t.Fatal("no Deployment")
	}
	c, env := checkPodSpec(t, dep)
	for k, want := range map[string]string{
		"BILLING_STRATEGY":            "request_based",
		"BILLING_PROVIDER":            "azure",
		"AZURE_PLAN_ID":               "socketx-plan",
		"AZURE_CLIENT_ID":             "00000000-0000-0000-0000-000000000001",
		"AZURE_EXTENSION_RESOURCE_ID": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/providers/Microsoft.KubernetesConfiguration/extensions/socketx",
		"MAX_CONNECTIONS":             "50000",
		"LOG_LEVEL":                   "debug",
		"GOMEMLIMIT":                  "1825361100",
	} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if got := dig(c, "image"); got != "example.azurecr.io/socketx-server@sha256:0000000000000000000000000000000000000000000000000000000000000000" {
		t.Errorf("image = %v (global.azure.images.socketx must win)", got)
	}
	if dig(dep, "spec", "replicas") != nil {
		t.Error("replicas must be left to the HPA when autoscaling is on")
	}
	if dig(dep, "spec", "template", "metadata", "labels", "azure.workload.identity/use") != "true" {
		t.Error("workload identity label missing")
	}
	sa := docs["ServiceAccount/rel-socketx"]
	if dig(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn") != "arn:aws:iam::123456789012:role/socketx-metering" ||
		dig(sa, "metadata", "annotations", "azure.workload.identity/client-id") != "00000000-0000-0000-0000-000000000001" {
		t.Errorf("ServiceAccount annotations = %v", dig(sa, "metadata", "annotations"))
	}
	if got := dig(docs["ConfigMap/rel-socketx-domain-map"], "data", "domain-map.json"); got != `{"*":{"upstream":"wss://backend.example.com/socket","allowedOrigins":["https://app.example.com"]}}` {
		t.Errorf("ConfigMap domain-map.json = %q (domainMapBase64 decoded)", got)
	}
	svc := docs["Service/rel-socketx"]
	if dig(svc, "spec", "type") != "LoadBalancer" || dig(svc, "spec", "ports", "0", "port") != 443 || dig(svc, "spec", "ports", "1") != nil {
		t.Errorf("public Service = %v", dig(svc, "spec"))
	}
	for _, k := range []string{"HorizontalPodAutoscaler/rel-socketx", "ServiceMonitor/rel-socketx", "PodDisruptionBudget/rel-socketx"} {
		if docs[k] == nil {
			t.Errorf("%s not rendered", k)
		}
	}
	if dig(docs["ServiceMonitor/rel-socketx"], "spec", "selector", "matchLabels", "app.kubernetes.io/component") != "metrics" {
		t.Error("ServiceMonitor must select the metrics Service")
	}
}

// The values schema and the DOMAIN_MAP checks reject bad input with a
// message that names the problem.
func TestHelmRejectsBadValues(t *testing.T) {
	helm := helmBinary(t)
	dir := t.TempDir()
	for _, tc := range []struct{ values, want string }{
		{"replicaCount: 0", "at '/replicaCount'"},
		{`replicaCount: "03"`, "at '/replicaCount'"},
		{`replicaCount: "3x"`, "at '/replicaCount'"},
		{"logLevel: loud", "at '/logLevel'"},
		{"service: {type: ExternalName, port: 8080}", "at '/service/type'"},
		{"service: {type: ClusterIP, port: 70000}", "at '/service/port'"},
		{"billingStrategy: free", "at '/billingStrategy'"},
		{"billingProvider: gcp", "at '/billingProvider'"},
		{"billingReportInterval: soon", "at '/billingReportInterval'"},
		{"domainMapBase64: '@@@'", "at '/domainMapBase64'"},
		{"image: {repository: x, tag: latest}", "at '/image/tag'"},
		{"securityContext: {runAsNonRoot: false}", "at '/securityContext/runAsNonRoot'"},
		{`domainMap: '{"*": {"upstream": "ws://x"}}'`, `DOMAIN_MAP["*"].allowedOrigins: want a non-empty list`},
		{`domainMap: '{"*": {"upstream": "http://x", "allowedOrigins": ["*"]}}'`, `DOMAIN_MAP["*"].upstream: want a ws:// or wss:// URL, got "http://x"`},
		{`domainMap: '{"*": }'`, "DOMAIN_MAP is not a non-empty JSON object"},
		{`domainMap: '[]'`, "at '/domainMap'"},
	} {
		f := filepath.Join(dir, "v.yaml")
		if err := os.WriteFile(f, []byte(tc.values+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := helmTemplate(helm, "-f", f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %q: err = %v, want it to contain %q", tc.values, err, tc.want)
		}
	}
}
