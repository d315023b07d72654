package deploy

import (
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's form, a YAML mapping, a plain string and the Azure
// template's base64 all give the same ConfigMap content: toJson writes keys sorted and
// without spaces, so the string below is written that way.
func TestHelmDomainMapObjectOrString(t *testing.T) {
	helm := helmBinary(t)
	const want = `{"*":{"allowedOrigins":["https://app.example.com"],"upstream":"ws://backend:8080"}}`
	values := filepath.Join(t.TempDir(), "v.yaml")
	if err := os.WriteFile(values, []byte("domainMap:\n  \"*\":\n    upstream: ws://backend:8080\n    allowedOrigins: [\"https://app.example.com\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"set-json object": {"--set-json", `domainMap={"*":{"upstream":"ws://backend:8080","allowedOrigins":["https://app.example.com"]}}`},
		"base64":          {"--set-string", "domainMapBase64=" + base64.StdEncoding.EncodeToString([]byte(want))},
		"values mapping":  {"-f", values},
		"string":          {"--set-json", "domainMap=" + jsonString(want)},
	} {
		docs := render(t, helm, args...)
		if got := dig(docs["ConfigMap/rel-socketx-domain-map"], "data", "domain-map.json"); got != want {
			t.Errorf("%s: ConfigMap domain-map.json = %q, want %q", name, got, want)
		}
	}
	// The object form goes through the same checks as the string.
	_, err := helmTemplate(helm, "--set-json", `domainMap={"*":{"upstream":"http://x","allowedOrigins":["*"]}}`)
	if err == nil || !strings.Contains(err.Error(), `DOMAIN_MAP["*"].upstream: want a ws:// or wss:// URL, got "http://x"`) {
		t.Errorf("object with an http upstream: err = %v", err)
	}
	if _, err := helmTemplate(helm, "--set-json", `domainMap={}`); err == nil || !strings.Contains(err.Error(), "at '/domainMap'") {
		t.Errorf("empty object: err = %v", err)
	}
}

func jsonString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestHelmKubeVersion(t *testing.T) {
	helm := helmBinary(t)
	_, err := helmTemplate(helm, "--kube-version", "1.29.9")
	if err == nil || !strings.Contains(err.Error(), "chart requires kubeVersion: >=1.30.0-0") {
		t.Errorf("--kube-version 1.29.9: err = %v, want the chart's kubeVersion refusal", err)
	}
	for _, v := range []string{"1.30.0", "1.30.2-eks-1234567", "1.33.1"} {
		if _, err := helmTemplate(helm, "--kube-version", v); err != nil {
			t.Errorf("--kube-version %s: %v", v, err)
		}
	}
}

func TestHelmNodePort(t *testing.T) {
	helm := helmBinary(t)
	for typ, want := range map[string]any{"NodePort": 30080, "LoadBalancer": 30080, "ClusterIP": nil} {
		svc := render(t, helm, "--set", "service.type="+typ, "--set", "service.nodePort=30080")["Service/rel-socketx"]
		if got := dig(svc, "spec", "ports", "0", "nodePort"); got != want {
			t.Errorf("type %s: nodePort = %v, want %v", typ, got, want)
		}
	}
	if got := dig(render(t, helm, "--set", "service.type=NodePort")["Service/rel-socketx"], "spec", "ports", "0", "nodePort"); got != nil {
		t.Errorf("nodePort unset: rendered %v, want Kubernetes to choose", got)
	}
	if _, err := helmTemplate(helm, "--set", "service.nodePort=70000"); err == nil || !strings.Contains(err.Error(), "at '/service/nodePort'") {
		t.Errorf("nodePort 70000: err = %v", err)
	}
	if _, ok := render(t, helm, "--set", "replicaCount=25")["Deployment/rel-socketx"]; !ok {
		t.Error("replicaCount=25 must render (no upper bound)")
	}
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func TestHelmIngressEKS(t *testing.T) {
	helm := helmBinary(t)
	if _, ok := render(t, helm)["Ingress/rel-socketx"]; ok {
		t.Error("Ingress rendered by default")
	}
	base := []string{"--set", "ingress.enabled=true", "--set", "ingress.preset=eks", "--set", "ingress.hosts[0].host=ws.example.com",
		"--set", "ingress.hosts[0].paths[0].path=/"}
	ing := render(t, helm, base...)["Ingress/rel-socketx"]
	want := map[string]string{
		"alb.ingress.kubernetes.io/target-type":              "ip",
		"alb.ingress.kubernetes.io/scheme":                   "internet-facing",
		"alb.ingress.kubernetes.io/load-balancer-attributes": "idle_timeout.timeout_seconds=120",
		"alb.ingress.kubernetes.io/target-group-attributes":  "deregistration_delay.timeout_seconds=30",
		"alb.ingress.kubernetes.io/backend-protocol":         "HTTP",
		"alb.ingress.kubernetes.io/healthcheck-path":         "/ready",
		"alb.ingress.kubernetes.io/success-codes":            "200",
		"alb.ingress.kubernetes.io/listen-ports":             `[{"HTTP": 80}]`,
	}
	if got := stringMap(dig(ing, "metadata", "annotations")); !maps.Equal(got, want) {
		t.Errorf("annotations = %v,\nwant %v", got, want)
	}
	if dig(ing, "spec", "ingressClassName") != "alb" {
		t.Errorf("ingressClassName = %v, want alb", dig(ing, "spec", "ingressClassName"))
	}
	rule := dig(ing, "spec", "rules", "0")
	if dig(rule, "host") != "ws.example.com" || dig(rule, "http", "paths", "0", "path") != "/" ||
		dig(rule, "http", "paths", "0", "pathType") != "Prefix" ||
		dig(rule, "http", "paths", "0", "backend", "service", "name") != "rel-socketx" ||
		dig(rule, "http", "paths", "0", "backend", "service", "port", "number") != 8080 {
		t.Errorf("rule = %v", rule)
	}

	// A certificate adds HTTPS and the redirect; the user's annotations and
	// class win over the preset.
	ing = render(t, helm, append(base, "--set", "ingress.alb.certificateArn=arn:aws:acm:us-east-1:123456789012:certificate/x",
		"--set", "ingress.alb.scheme=internal", "--set", "ingress.idleTimeoutSeconds=300", "--set", "ingress.className=alb-internal",
		"--set-json", `ingress.annotations={"alb.ingress.kubernetes.io/success-codes":"200-299","alb.ingress.kubernetes.io/group.name":"shared"}`)...)["Ingress/rel-socketx"]
	got := stringMap(dig(ing, "metadata", "annotations"))
	for k, v := range map[string]string{
		"alb.ingress.kubernetes.io/certificate-arn":          "arn:aws:acm:us-east-1:123456789012:certificate/x",
		"alb.ingress.kubernetes.io/listen-ports":             `[{"HTTP": 80}, {"HTTPS": 443}]`,
		"alb.ingress.kubernetes.io/ssl-redirect":             "443",
		"alb.ingress.kubernetes.io/scheme":                   "internal",
		"alb.ingress.kubernetes.io/load-balancer-attributes": "idle_timeout.timeout_seconds=300",
		"alb.ingress.kubernetes.io/success-codes":            "200-299",
		"alb.ingress.kubernetes.io/group.name":               "shared",
	} {
		if got[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, got[k], v)
		}
	}
	if dig(ing, "spec", "ingressClassName") != "alb-internal" {
		t.Errorf("ingressClassName = %v, want the value's alb-internal", dig(ing, "spec", "ingressClassName"))
	}
}

func TestHelmIngressAKS(t *testing.T) {
	helm := helmBinary(t)
	ing := render(t, helm, "-f", "helm/examples/aks.yaml")["Ingress/rel-socketx"]
	want := map[string]string{
		"nginx.ingress.kubernetes.io/proxy-read-timeout": "120",
		"nginx.ingress.kubernetes.io/proxy-send-timeout": "120",
	}
	if got := stringMap(dig(ing, "metadata", "annotations")); !maps.Equal(got, want) {
		t.Errorf("annotations = %v, want %v", got, want)
	}
	if dig(ing, "spec", "ingressClassName") != "nginx" || dig(ing, "spec", "tls", "0", "secretName") != "socketx-tls" ||
		dig(ing, "spec", "rules", "0", "host") != "socketx.example.com" {
		t.Errorf("spec = %v", dig(ing, "spec"))
	}
	// No preset: no annotations of the chart's own, no class.
	ing = render(t, helm, "--set", "ingress.enabled=true")["Ingress/rel-socketx"]
	if dig(ing, "metadata", "annotations") != nil || dig(ing, "spec", "ingressClassName") != nil {
		t.Errorf("ingress without preset = %v", ing)
	}
	// The load balancer must not cut connections between pings.
	_, err := helmTemplate(helm, "--set", "ingress.enabled=true", "--set", "ingress.preset=aks",
		"--set-json", `extraEnv=[{"name":"CLIENT_PING_INTERVAL","value":"150"},{"name":"CLIENT_PONG_TIMEOUT","value":"160"}]`)
	if err == nil || !strings.Contains(err.Error(), "ingress.idleTimeoutSeconds (120) must be above CLIENT_PING_INTERVAL (150)") {
		t.Errorf("idle timeout below the ping interval: err = %v", err)
	}
	if _, err := helmTemplate(helm, "--set", "ingress.preset=gke"); err == nil || !strings.Contains(err.Error(), "at '/ingress/preset'") {
		t.Errorf("preset gke: err = %v", err)
	}
}

func TestHelmEnvFromAndUpstreamCA(t *testing.T) {
	helm := helmBinary(t)
	dep := render(t, helm, "--set", "envFromSecret=socketx-mte", "--set", "upstreamCA.secretName=backend-ca", "--set", "upstreamCA.key=bundle.pem",
		"--set-json", `envFrom=[{"configMapRef":{"name":"socketx-tuning"}}]`,
		"--set-json", `extraEnv=[{"name":"MTE_LICENSE_KEY","valueFrom":{"secretKeyRef":{"name":"lic","key":"key"}}}]`)["Deployment/rel-socketx"]
	c := dig(dep, "spec", "template", "spec", "containers", "0")
	if got := envMap(c)["UPSTREAM_CA_FILE"]; got != "/etc/socketx/upstream-ca/bundle.pem" {
		t.Errorf("UPSTREAM_CA_FILE = %q", got)
	}
	var lic any
	for _, e := range dig(c, "env").([]any) {
		if dig(e, "name") == "MTE_LICENSE_KEY" {
			lic = e
		}
	}
	if dig(lic, "valueFrom", "secretKeyRef", "name") != "lic" || dig(lic, "valueFrom", "secretKeyRef", "key") != "key" {
		t.Errorf("extraEnv valueFrom = %v", lic)
	}
	if dig(c, "envFrom", "0", "secretRef", "name") != "socketx-mte" || dig(c, "envFrom", "1", "configMapRef", "name") != "socketx-tuning" {
		t.Errorf("envFrom = %v", dig(c, "envFrom"))
	}
	var mount any
	for _, m := range dig(c, "volumeMounts").([]any) {
		if dig(m, "name") == "upstream-ca" {
			mount = m
		}
	}
	if dig(mount, "mountPath") != "/etc/socketx/upstream-ca" || dig(mount, "readOnly") != true || dig(mount, "subPath") != nil {
		t.Errorf("upstream-ca mount = %v (read-only directory, no subPath)", mount)
	}
	var vol any
	for _, v := range dig(dep, "spec", "template", "spec", "volumes").([]any) {
		if dig(v, "name") == "upstream-ca" {
			vol = v
		}
	}
	if dig(vol, "secret", "secretName") != "backend-ca" || dig(vol, "secret", "items", "0", "key") != "bundle.pem" || dig(vol, "secret", "items", "0", "path") != "bundle.pem" {
		t.Errorf("upstream-ca volume = %v", vol)
	}

	dep = render(t, helm, "--set", "upstreamCA.configMapName=backend-ca")["Deployment/rel-socketx"]
	c = dig(dep, "spec", "template", "spec", "containers", "0")
	if got := envMap(c)["UPSTREAM_CA_FILE"]; got != "/etc/socketx/upstream-ca/ca.crt" {
		t.Errorf("UPSTREAM_CA_FILE = %q", got)
	}
	if dig(dep, "spec", "template", "spec", "volumes", "2", "configMap", "name") != "backend-ca" {
		t.Errorf("volumes = %v", dig(dep, "spec", "template", "spec", "volumes"))
	}
	if _, err := helmTemplate(helm, "--set", "upstreamCA.configMapName=a", "--set", "upstreamCA.secretName=b"); err == nil || !strings.Contains(err.Error(), "upstreamCA: set secretName or configMapName, not both") {
		t.Errorf("both CA sources: err = %v", err)
	}
	// Without a CA nothing is mounted or set.
	c = dig(render(t, helm)["Deployment/rel-socketx"], "spec", "template", "spec", "containers", "0")
	if _, ok := envMap(c)["UPSTREAM_CA_FILE"]; ok || dig(c, "envFrom") != nil {
		t.Errorf("default: UPSTREAM_CA_FILE or envFrom set: %v", c)
	}
}

// collectorMetrics reads the metric names telemetry/collector.go describes.
func collectorMetrics(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../telemetry/collector.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`\bdesc\("([a-z0-9_]+)"`).FindAllSubmatch(data, -1) {
		out = append(out, "socketx_"+string(m[1]))
	}
	if len(out) < 20 {
		t.Fatalf("found %d descriptors in collector.go; the pattern no longer matches", len(out))
	}
	return out
}

func TestHelmPrometheusRule(t *testing.T) {
	helm := helmBinary(t)
	if _, ok := render(t, helm, "--set", "metrics.serviceMonitor.enabled=true")["PrometheusRule/rel-socketx"]; ok {
		t.Error("PrometheusRule rendered without prometheusRule.enabled")
	}
	docs := render(t, helm, "--set", "prometheusRule.enabled=true", "--set", "prometheusRule.labels.release=prometheus",
		"--set", "prometheusRule.alertLabels.team=realtime")
	rule := docs["PrometheusRule/rel-socketx"]
	if rule == nil {
		t.Fatal("PrometheusRule not rendered")
	}
	if dig(rule, "apiVersion") != "monitoring.coreos.com/v1" || dig(rule, "metadata", "labels", "release") != "prometheus" {
		t.Errorf("PrometheusRule metadata = %v", dig(rule, "metadata"))
	}
	known := collectorMetrics(t)
	engineMetrics, err := os.ReadFile("../engine/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	metricRe := regexp.MustCompile(`\bsocketx_[a-z0-9_]+`)
	reasonRe := regexp.MustCompile(`socketx_rejections_total\{[^}]*reason=~"([^"]+)"`)
	var alerts []string
	exprs := map[string]string{}
	for _, r := range dig(rule, "spec", "groups", "0", "rules").([]any) {
		name, expr := dig(r, "alert").(string), dig(r, "expr").(string)
		alerts = append(alerts, name)
		exprs[name] = expr
		if dig(r, "labels", "team") != "realtime" || dig(r, "labels", "severity") == nil {
			t.Errorf("%s: labels = %v", name, dig(r, "labels"))
		}
		if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") {
			t.Errorf("%s: unbalanced expression %q", name, expr)
		}
		for _, m := range metricRe.FindAllString(expr, -1) {
			if !slices.Contains(known, m) {
				t.Errorf("%s: %s is not a metric of telemetry/collector.go", name, m)
			}
		}
		for _, m := range reasonRe.FindAllStringSubmatch(expr, -1) {
			for _, reason := range strings.Split(m[1], "|") {
				if !strings.Contains(string(engineMetrics), `"`+reason+`"`) {
					t.Errorf("%s: rejection reason %q is not in engine/metrics.go", name, reason)
				}
			}
		}
		for _, m := range metricRe.FindAllStringIndex(expr, -1) {
			if sel := expr[m[1]:]; !strings.HasPrefix(sel, `{namespace="default", job="rel-socketx-metrics"`) {
				t.Errorf("%s: %s is not selected by the release's namespace and metrics job: %q", name, expr[m[0]:m[1]], firstLine(sel))
			}
		}
	}
	want := []string{"SocketXPairingFailures", "SocketXErrorCloses", "SocketXSlowPeerCloses", "SocketXConnectionsShed",
		"SocketXAcceptErrors", "SocketXDrainStuck", "SocketXDomainMapReloadFailures", "SocketXMeteringFailures", "SocketXMeteringLostMessages",
		"SocketXMemoryBudgetNearFull", "SocketXMemoryNearLimit"}
	if !slices.Equal(alerts, want) {
		t.Errorf("alerts = %q, want %q", alerts, want)
	}
	for name, want := range map[string]string{
		"SocketXErrorCloses":             `code=~"1008|1011|1014"`,
		"SocketXMeteringFailures":        `result=~"failed|rejected|expired"`,
		"SocketXConnectionsShed":         `sum by (namespace, job, reason)`,
		"SocketXDrainStuck":              `socketx_draining{namespace="default", job="rel-socketx-metrics"}) == 1`,
		"SocketXDomainMapReloadFailures": `socketx_domain_map_reloads_total{namespace="default", job="rel-socketx-metrics", result="failure"}[10m]`,
		"SocketXMemoryBudgetNearFull":    fmt.Sprintf("> %.0f", 0.9*912680550/2), // half of GOMEMLIMIT (85% of 1Gi)
		"SocketXMemoryNearLimit":         fmt.Sprintf("process_resident_memory_bytes{namespace=\"default\", job=\"rel-socketx-metrics\"}) > %.0f", 0.9*(1<<30)),
	} {
		if !strings.Contains(exprs[name], want) {
			t.Errorf("%s: expr %q lacks %q", name, exprs[name], want)
		}
	}
	// MEMORY_BUDGET set through extraEnv is the budget the alert compares with.
	docs = render(t, helm, "--set", "prometheusRule.enabled=true", "--set-json", `extraEnv=[{"name":"MEMORY_BUDGET","value":"100000000"}]`)
	for _, r := range dig(docs["PrometheusRule/rel-socketx"], "spec", "groups", "0", "rules").([]any) {
		if dig(r, "alert") == "SocketXMemoryBudgetNearFull" && !strings.Contains(dig(r, "expr").(string), "> 90000000") {
			t.Errorf("MEMORY_BUDGET=100000000: expr = %q, want > 90000000", dig(r, "expr"))
		}
	}
	// Draining pods stay scrapeable, or the drain alert has nothing to read.
	if dig(docs["Service/rel-socketx-metrics"], "spec", "publishNotReadyAddresses") != true {
		t.Error("metrics Service must publish not-ready addresses")
	}
	if _, err := helmTemplate(helm, "--set", "prometheusRule.enabled=true", "--set", "metrics.enabled=false"); err == nil ||
		!strings.Contains(err.Error(), "prometheusRule.enabled needs metrics.enabled") {
		t.Errorf("rule without metrics: err = %v", err)
	}
}

// TestHelmServerKeys: serverKeys mounts the named keys of a Secret
// read-only at /etc/socketx/server-keys and points MTE_SERVER_KEY_FILES at
// them, in order; without a secretName nothing is mounted or set.
func TestHelmServerKeys(t *testing.T) {
	helm := helmBinary(t)
	dep := render(t, helm, "--set", "serverKeys.secretName=socketx-server-keys", "--set", "serverKeys.keys={2026-06.key,2026-12.key}")["Deployment/rel-socketx"]
	c := dig(dep, "spec", "template", "spec", "containers", "0")
	if got, want := envMap(c)["MTE_SERVER_KEY_FILES"], "/etc/socketx/server-keys/2026-06.key,/etc/socketx/server-keys/2026-12.key"; got != want {
		t.Errorf("MTE_SERVER_KEY_FILES = %q, want %q", got, want)
	}
	var mount, vol any
	for _, m := range dig(c, "volumeMounts").([]any) {
		if dig(m, "name") == "server-keys" {
			mount = m
		}
	}
	for _, v := range dig(dep, "spec", "template", "spec", "volumes").([]any) {
		if dig(v, "name") == "server-keys" {
			vol = v
		}
	}
	wantMount := map[string]any{"name": "server-keys", "mountPath": "/etc/socketx/server-keys", "readOnly": true}
	if !reflect.DeepEqual(mount, wantMount) {
		t.Errorf("server-keys mount = %v, want %v", mount, wantMount)
	}
	wantVol := map[string]any{"name": "server-keys", "secret": map[string]any{
		"secretName": "socketx-server-keys", "defaultMode": 0o440,
		"items": []any{
			map[string]any{"key": "2026-06.key", "path": "2026-06.key"},
			map[string]any{"key": "2026-12.key", "path": "2026-12.key"},
		}}}
	if !reflect.DeepEqual(vol, wantVol) {
		t.Errorf("server-keys volume = %#v, want %#v", vol, wantVol)
	}
	if _, err := helmTemplate(helm, "--set", "serverKeys.secretName=s"); err == nil || !strings.Contains(err.Error(), "serverKeys: secretName needs keys") {
		t.Errorf("secretName without keys: err = %v", err)
	}
	if _, err := helmTemplate(helm, "--set", "serverKeys.secretName=s", "--set", "serverKeys.keys={../etc/passwd}"); err == nil || !strings.Contains(err.Error(), "serverKeys/keys/0") {
		t.Errorf("key with a slash: err = %v", err)
	}
	c = dig(render(t, helm)["Deployment/rel-socketx"], "spec", "template", "spec", "containers", "0")
	if _, ok := envMap(c)["MTE_SERVER_KEY_FILES"]; ok {
		t.Error("default: MTE_SERVER_KEY_FILES set")
	}
	for _, m := range dig(c, "volumeMounts").([]any) {
		if dig(m, "name") == "server-keys" {
			t.Error("default: server-keys mounted")
		}
	}
}
