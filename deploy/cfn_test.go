package deploy

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/socketx/socketx-server/internal/ecsmeta"
)

// cfnTemplate is the CloudFormation template as yaml.v3 nodes: the Node API
// keeps the short-form tags (!Ref, !Sub, !GetAtt, !If ...) that a plain
// unmarshal into maps would reject.
type cfnTemplate struct {
	root       *yaml.Node
	params     map[string]*yaml.Node
	resources  map[string]*yaml.Node
	conditions map[string]*yaml.Node
	mappings   map[string]*yaml.Node
	outputs    map[string]*yaml.Node
	rules      map[string]*yaml.Node
}

// pseudoParams are the AWS pseudo parameters !Ref may name.
var pseudoParams = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

func loadTemplate(t *testing.T) *cfnTemplate {
	t.Helper()
	data, err := os.ReadFile("aws/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	tpl := &cfnTemplate{root: root}
	section := func(name string) map[string]*yaml.Node {
		m := map[string]*yaml.Node{}
		if n := get(root, name); n != nil {
			for i := 0; i+1 < len(n.Content); i += 2 {
				m[n.Content[i].Value] = n.Content[i+1]
			}
		}
		return m
	}
	tpl.params = section("Parameters")
	tpl.resources = section("Resources")
	tpl.conditions = section("Conditions")
	tpl.mappings = section("Mappings")
	tpl.outputs = section("Outputs")
	tpl.rules = section("Rules")
	return tpl
}

// get returns the value of key in mapping node n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
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

// path follows keys through mapping nodes.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
	}
	return n
}

// walk calls fn on n and every node below it.
func walk(n *yaml.Node, fn func(*yaml.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}

// subRefs returns the names a Fn::Sub string interpolates (${Name} or
// ${Name.Attr}; ${!Literal} is skipped).
func subRefs(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\$\{([^}]+)\}`).FindAllStringSubmatch(s, -1) {
		if !strings.HasPrefix(m[1], "!") {
			out = append(out, m[1])
		}
	}
	return out
}

// refKind classifies a reference: a logical name must be a parameter,
// resource or pseudo parameter; name.Attr a resource.
func (tpl *cfnTemplate) checkRef(t *testing.T, n *yaml.Node, name string, attrAllowed bool) {
	t.Helper()
	if base, _, ok := strings.Cut(name, "."); ok && attrAllowed {
		if tpl.resources[base] == nil {
			t.Errorf("line %d: %q names no resource", n.Line, name)
		}
		return
	}
	if tpl.params[name] == nil && tpl.resources[name] == nil && !slices.Contains(pseudoParams, name) {
		t.Errorf("line %d: reference %q is no parameter, resource or pseudo parameter", n.Line, name)
	}
}

func TestTemplateReferencesResolve(t *testing.T) {
	tpl := loadTemplate(t)
	usedConds := map[string]bool{}
	useCond := func(n *yaml.Node, name string) {
		if tpl.conditions[name] == nil {
			t.Errorf("line %d: condition %q is not defined", n.Line, name)
		}
		usedConds[name] = true
	}
	refs := 0
	for _, sec := range []string{"Resources", "Outputs", "Conditions", "Rules"} {
		walk(get(tpl.root, sec), func(n *yaml.Node) {
			switch n.Tag {
			case "!Ref":
				refs++
				tpl.checkRef(t, n, n.Value, false)
			case "!GetAtt":
				refs++
				name := n.Value
				if n.Kind == yaml.SequenceNode && len(n.Content) == 2 {
					name = n.Content[0].Value + "." + n.Content[1].Value
				}
				if !strings.Contains(name, ".") {
					t.Errorf("line %d: !GetAtt %q has no attribute", n.Line, name)
				}
				tpl.checkRef(t, n, name, true)
			case "!Sub":
				s := n.Value
				if n.Kind == yaml.SequenceNode {
					s = n.Content[0].Value
				}
				for _, r := range subRefs(s) {
					refs++
					tpl.checkRef(t, n, r, true)
				}
			case "!If":
				if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
					t.Errorf("line %d: !If wants [condition, then, else]", n.Line)
					return
				}
				useCond(n, n.Content[0].Value)
			case "!Condition":
				useCond(n, n.Value)
			case "!FindInMap":
				if m := n.Content[0].Value; tpl.mappings[m] == nil {
					t.Errorf("line %d: !FindInMap names no mapping %q", n.Line, m)
				}
			}
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := n.Content[i].Value, n.Content[i+1]
					switch k {
					case "Ref":
						refs++
						tpl.checkRef(t, v, v.Value, false)
					case "Fn::ValueOf":
						tpl.checkRef(t, v, v.Content[0].Value, false)
					}
				}
			}
		})
	}
	for _, sec := range []map[string]*yaml.Node{tpl.resources, tpl.outputs} {
		for name, body := range sec {
			if c := get(body, "Condition"); c != nil {
				useCond(c, c.Value)
			}
			if d := get(body, "DependsOn"); d != nil {
				walk(d, func(n *yaml.Node) {
					if n.Kind == yaml.ScalarNode && tpl.resources[n.Value] == nil {
						t.Errorf("%s DependsOn %q: no such resource", name, n.Value)
					}
				})
			}
		}
	}
	for name := range tpl.conditions {
		if !usedConds[name] {
			t.Errorf("condition %q is defined but never used", name)
		}
	}
	if refs < 20 {
		t.Errorf("only %d references found: the walker is not seeing the template", refs)
	}
}

func TestTemplateSubRefs(t *testing.T) {
	got := subRefs("arn:${AWS::Partition}:ecs:${AWS::Region}:${Res.Name}/${!Literal}")
	if want := []string{"AWS::Partition", "AWS::Region", "Res.Name"}; !slices.Equal(got, want) {
		t.Errorf("subRefs = %q, want %q", got, want)
	}
}

func TestTemplateParameters(t *testing.T) {
	tpl := loadTemplate(t)
	want := map[string]string{
		"VpcId":           "AWS::EC2::VPC::Id",
		"SubnetIds":       "List<AWS::EC2::Subnet::Id>",
		"DomainMap":       "String",
		"LogLevel":        "String",
		"Image":           "String",
		"CpuArchitecture": "String",
		"TaskCpu":         "String",
		"TaskMemory":      "String",
		"DesiredCount":    "Number",
		"MinCapacity":     "Number",
		"MaxCapacity":     "Number",
		"CertificateArn":  "String",
		"BillingStrategy": "String",
		"ProductCode":     "String",
		"VpcCidr":         "String",
		"TrustedProxies":  "String",
		"KyberStrength":   "String",
		"MaxConnections":  "Number",
		"MetricsEmf":      "String",
		"AlarmTopicArn":   "String",

		"LicenseKeySecretArn":  "String",
		"CompanyNameSecretArn": "String",
		"UpstreamCaSecretArn":  "String",
	}
	for i := 1; i <= extraEnvPairs; i++ {
		want["ExtraEnvName"+strconv.Itoa(i)] = "String"
		want["ExtraEnvValue"+strconv.Itoa(i)] = "String"
	}
	for name, typ := range want {
		p := tpl.params[name]
		if p == nil {
			t.Errorf("parameter %s missing", name)
			continue
		}
		if got := get(p, "Type").Value; got != typ {
			t.Errorf("parameter %s Type = %q, want %q", name, got, typ)
		}
	}
	allowed := func(name string) []string {
		var out []string
		for _, c := range get(tpl.params[name], "AllowedValues").Content {
			out = append(out, c.Value)
		}
		return out
	}
	if got, want := allowed("LogLevel"), []string{"trace", "debug", "info", "warn", "error", "fatal", "panic", "disabled"}; !slices.Equal(got, want) {
		t.Errorf("LogLevel AllowedValues = %q, want %q", got, want)
	}
	if got, want := allowed("CpuArchitecture"), []string{"ARM64", "X86_64"}; !slices.Equal(got, want) {
		t.Errorf("CpuArchitecture AllowedValues = %q, want %q", got, want)
	}
	if got := get(tpl.params["CpuArchitecture"], "Default").Value; got != "ARM64" {
		t.Errorf("CpuArchitecture Default = %q, want ARM64", got)
	}
	if got, want := allowed("BillingStrategy"), []string{"eclypses_no_billing", "register_usage", "request_based", "external_meter"}; !slices.Equal(got, want) {
		t.Errorf("BillingStrategy AllowedValues = %q, want %q", got, want)
	}
	if got, want := allowed("KyberStrength"), []string{"0", "512", "768", "1024"}; !slices.Equal(got, want) {
		t.Errorf("KyberStrength AllowedValues = %q, want %q", got, want)
	}
	for name, def := range map[string]string{"KyberStrength": "512", "MaxConnections": "0", "MetricsEmf": "true", "Image": imageDefault(t)} {
		if d := get(tpl.params[name], "Default"); d == nil || d.Value != def {
			t.Errorf("%s Default = %v, want %q", name, d, def)
		}
	}
	for _, name := range []string{"CertificateArn", "VpcCidr", "TrustedProxies", "LicenseKeySecretArn", "CompanyNameSecretArn", "UpstreamCaSecretArn", "AlarmTopicArn"} {
		if d := get(tpl.params[name], "Default"); d == nil || d.Value != "" {
			t.Errorf(`%s must be optional (Default "")`, name)
		}
	}
	// Every task memory size has a GOMEMLIMIT.
	for _, mem := range allowed("TaskMemory") {
		if get(tpl.mappings["GoMemLimit"], mem) == nil {
			t.Errorf("TaskMemory %s has no GoMemLimit mapping", mem)
		}
	}
}

func TestTemplateSubnetRules(t *testing.T) {
	tpl := loadTemplate(t)
	assert := path(tpl.rules["SubnetsInVpc"], "Assertions").Content[0]
	each := path(assert, "Assert", "Fn::EachMemberEquals")
	if each == nil || path(each.Content[0], "Fn::ValueOf").Content[1].Value != "VpcId" || get(each.Content[1], "Ref").Value != "VpcId" {
		t.Error("rule SubnetsInVpc must assert every subnet's VpcId equals VpcId")
	}
	// Rules cannot count list elements: !Select [1, SubnetIds] fails the
	// template when fewer than two subnets are given.
	found := false
	walk(get(tpl.root, "Resources"), func(n *yaml.Node) {
		if n.Tag == "!Select" && n.Content[0].Value == "1" && n.Content[1].Tag == "!Ref" && n.Content[1].Value == "SubnetIds" {
			found = true
		}
	})
	if !found {
		t.Error("no !Select [1, !Ref SubnetIds] guard for at least two subnets")
	}
}

// attr returns the Value of the Key/Value pair named key in a list node.
func attr(list *yaml.Node, key string) string {
	if list == nil {
		return ""
	}
	for _, kv := range list.Content {
		if k := get(kv, "Key"); k != nil && k.Value == key {
			return get(kv, "Value").Value
		}
		if k := get(kv, "Name"); k != nil && k.Value == key {
			return get(kv, "Value").Value
		}
	}
	return ""
}

func atoi(t *testing.T, what, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s = %q: not an integer", what, s)
	}
	return n
}

func TestTemplateWebSocketSettings(t *testing.T) {
	tpl := loadTemplate(t)
	props := func(name string) *yaml.Node { return path(tpl.resources[name], "Properties") }

	// ALB idle timeout above the 54 s ping interval with margin.
	if got := attr(get(props("LoadBalancer"), "LoadBalancerAttributes"), "idle_timeout.timeout_seconds"); got != "120" {
		t.Errorf("ALB idle_timeout.timeout_seconds = %q, want 120", got)
	}
	tg := props("TargetGroup")
	for k, want := range map[string]string{"HealthCheckPath": "/ready", "HealthCheckPort": "8080", "Port": "8080", "TargetType": "ip"} {
		if got := get(tg, k).Value; got != want {
			t.Errorf("TargetGroup %s = %q, want %q", k, got, want)
		}
	}

	td := props("TaskDefinition")
	if got := path(td, "RuntimePlatform", "CpuArchitecture"); got.Tag != "!Ref" || got.Value != "CpuArchitecture" {
		t.Error("RuntimePlatform.CpuArchitecture must be !Ref CpuArchitecture")
	}
	c := get(td, "ContainerDefinitions").Content[0]
	env := get(c, "Environment")
	for _, u := range get(c, "Ulimits").Content {
		if get(u, "Name").Value != "nofile" {
			continue
		}
		for _, k := range []string{"SoftLimit", "HardLimit"} {
			if n := atoi(t, k, get(u, k).Value); n < 65536 {
				t.Errorf("nofile %s = %d, want >= 65536", k, n)
			}
		}
		goto nofileOK
	}
	t.Error("no nofile ulimit")
nofileOK:
	if got := get(c, "ReadonlyRootFilesystem").Value; got != "true" {
		t.Errorf("ReadonlyRootFilesystem = %q, want true", got)
	}
	if got := get(c, "User").Value; got != "65532:65532" {
		t.Errorf("container User = %q, want 65532:65532", got)
	}
	var hc []string
	for _, n := range path(c, "HealthCheck", "Command").Content {
		hc = append(hc, n.Value)
	}
	if want := []string{"CMD", "/socketx", "healthcheck"}; !slices.Equal(hc, want) {
		t.Errorf("container HealthCheck = %q, want %q", hc, want)
	}
	for _, name := range []string{"DOMAIN_MAP", "LOG_LEVEL", "BILLING_STRATEGY", "GOMEMLIMIT", "LISTEN_PORT"} {
		if envEntry(env, name) == nil {
			t.Errorf("container environment lacks %s", name)
		}
	}
	if got := attr(env, "LISTEN_PORT"); got != "8080" {
		t.Errorf("LISTEN_PORT = %q, want 8080", got)
	}

	// awslogs into a log group with retention.
	logc := get(c, "LogConfiguration")
	if get(logc, "LogDriver").Value != "awslogs" || path(logc, "Options", "awslogs-group").Value != "LogGroup" {
		t.Error("container logs must go to awslogs with awslogs-group !Ref LogGroup")
	}
	if r := path(tpl.resources["LogGroup"], "Properties", "RetentionInDays"); r == nil || atoi(t, "RetentionInDays", r.Value) < 1 {
		t.Error("LogGroup needs RetentionInDays")
	}

	// HTTPS only with a certificate.
	if got := get(tpl.resources["HttpsListener"], "Condition").Value; got != "HasCertificate" {
		t.Errorf("HttpsListener Condition = %q, want HasCertificate", got)
	}

	// Scaling: target tracking on CPU between MinCapacity and MaxCapacity.
	st := props("ScalableTarget")
	if get(st, "MinCapacity").Value != "MinCapacity" || get(st, "MaxCapacity").Value != "MaxCapacity" {
		t.Error("ScalableTarget must use !Ref MinCapacity / MaxCapacity")
	}
	pol := props("CpuScalingPolicy")
	if get(pol, "PolicyType").Value != "TargetTrackingScaling" ||
		path(pol, "TargetTrackingScalingPolicyConfiguration", "PredefinedMetricSpecification", "PredefinedMetricType").Value != "ECSServiceAverageCPUUtilization" {
		t.Error("CpuScalingPolicy must be target tracking on ECSServiceAverageCPUUtilization")
	}
}

func TestTemplateMarketplaceOnlyWithBilling(t *testing.T) {
	tpl := loadTemplate(t)
	c := tpl.conditions["BillingEnabled"]
	if c == nil || c.Tag != "!Not" || c.Content[0].Tag != "!Equals" ||
		c.Content[0].Content[0].Value != "BillingStrategy" || c.Content[0].Content[1].Value != "eclypses_no_billing" {
		t.Fatal("condition BillingEnabled must be !Not [!Equals [!Ref BillingStrategy, eclypses_no_billing]]")
	}
	var actions []string
	var holders []string
	for name, body := range tpl.resources {
		walk(body, func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, "aws-marketplace:") {
				actions = append(actions, n.Value)
				if !slices.Contains(holders, name) {
					holders = append(holders, name)
				}
			}
		})
	}
	sort.Strings(actions)
	if want := []string{"aws-marketplace:MeterUsage", "aws-marketplace:RegisterUsage"}; !slices.Equal(actions, want) {
		t.Errorf("marketplace actions = %q, want exactly %q", actions, want)
	}
	for _, name := range holders {
		if cond := get(tpl.resources[name], "Condition"); cond == nil || cond.Value != "BillingEnabled" {
			t.Errorf("resource %s grants marketplace actions without Condition: BillingEnabled", name)
		}
	}
	if len(holders) != 1 || path(tpl.resources[holders[0]], "Properties", "Roles").Content[0].Value != "TaskRole" {
		t.Errorf("marketplace actions must sit in one policy attached to TaskRole, found in %q", holders)
	}
}

func TestTemplateTaskIngressOnlyFromALB(t *testing.T) {
	tpl := loadTemplate(t)
	rules := path(tpl.resources["TaskSecurityGroup"], "Properties", "SecurityGroupIngress")
	if rules == nil || len(rules.Content) == 0 {
		t.Fatal("TaskSecurityGroup has no ingress rules")
	}
	for _, r := range rules.Content {
		src := get(r, "SourceSecurityGroupId")
		if src == nil || src.Tag != "!Ref" || src.Value != "LoadBalancerSecurityGroup" {
			t.Errorf("line %d: task ingress must come from !Ref LoadBalancerSecurityGroup", r.Line)
		}
		for _, k := range []string{"CidrIp", "CidrIpv6", "SourcePrefixListId"} {
			if get(r, k) != nil {
				t.Errorf("line %d: task ingress has %s", r.Line, k)
			}
		}
		if get(r, "FromPort").Value != "8080" || get(r, "ToPort").Value != "8080" {
			t.Errorf("line %d: task ingress must be port 8080 only", r.Line)
		}
	}
	for name, body := range tpl.resources {
		if get(body, "Type").Value == "AWS::EC2::SecurityGroupIngress" {
			t.Errorf("standalone ingress %s: keep task ingress inline where this test sees it", name)
		}
	}
	for _, lb := range get(path(tpl.resources["LoadBalancer"], "Properties"), "SecurityGroups").Content {
		if lb.Value != "LoadBalancerSecurityGroup" {
			t.Errorf("ALB security group %q, want LoadBalancerSecurityGroup", lb.Value)
		}
	}
}

// productParameters is the parameters.json of the product documentation
// (SocketX on AWS, ECS): four keys, VpcId and SubnetIds left for the user.
const productParameters = `[
  {"ParameterKey": "VpcId", "ParameterValue": ""},
  {"ParameterKey": "SubnetIds", "ParameterValue": ""},
  {"ParameterKey": "DomainMap", "ParameterValue": "{\"*\":{\"upstream\":\"ws://example.com\",\"allowedOrigins\":[\"*\"]}}"},
  {"ParameterKey": "LogLevel", "ParameterValue": "warn"}
]`

// checkParameters reports what keeps a parameters file from deploying: an
// unknown key, a value outside AllowedValues or AllowedPattern, or a
// parameter without Default that the file does not give.
func checkParameters(t *testing.T, tpl *cfnTemplate, file string, data []byte) map[string]string {
	t.Helper()
	var params []struct{ ParameterKey, ParameterValue string }
	if err := json.Unmarshal(data, &params); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	given := map[string]string{}
	for _, p := range params {
		decl := tpl.params[p.ParameterKey]
		if decl == nil {
			t.Errorf("%s: %s is not a template parameter", file, p.ParameterKey)
			continue
		}
		given[p.ParameterKey] = p.ParameterValue
		if av := get(decl, "AllowedValues"); av != nil {
			ok := false
			for _, v := range av.Content {
				ok = ok || v.Value == p.ParameterValue
			}
			if !ok {
				t.Errorf("%s: %s=%q is not an allowed value", file, p.ParameterKey, p.ParameterValue)
			}
		}
		if ap := get(decl, "AllowedPattern"); ap != nil && !regexp.MustCompile(ap.Value).MatchString(p.ParameterValue) {
			t.Errorf("%s: %s=%q does not match AllowedPattern %s", file, p.ParameterKey, p.ParameterValue, ap.Value)
		}
	}
	for name, decl := range tpl.params {
		if get(decl, "Default") == nil {
			if _, ok := given[name]; !ok {
				t.Errorf("%s lacks required parameter %s", file, name)
			}
		}
	}
	return given
}

// TestParametersExample: deploy/aws/parameters.json holds the product's
// four keys and deploys as is; so does the product documentation's file.
func TestParametersExample(t *testing.T) {
	tpl := loadTemplate(t)
	data, err := os.ReadFile("aws/parameters.json")
	if err != nil {
		t.Fatal(err)
	}
	given := checkParameters(t, tpl, "parameters.json", data)
	keys := slices.Sorted(maps.Keys(given))
	if want := []string{"DomainMap", "LogLevel", "SubnetIds", "VpcId"}; !slices.Equal(keys, want) {
		t.Errorf("parameters.json keys = %q, want the product's four %q", keys, want)
	}
	if n := len(strings.Split(given["SubnetIds"], ",")); n < 2 {
		t.Errorf("parameters.json: SubnetIds has %d subnets, want at least 2", n)
	}
	var dm map[string]struct {
		Upstream       string   `json:"upstream"`
		AllowedOrigins []string `json:"allowedOrigins"`
	}
	if err := json.Unmarshal([]byte(given["DomainMap"]), &dm); err != nil || dm["*"].Upstream != "ws://example.com" || len(dm["*"].AllowedOrigins) == 0 {
		t.Errorf("parameters.json: DomainMap %q is not the documented example (%v)", given["DomainMap"], err)
	}
	checkParameters(t, tpl, "the product's parameters.json", []byte(productParameters))
	// Only the network and the routes are required.
	var required []string
	for name, decl := range tpl.params {
		if get(decl, "Default") == nil {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	if want := []string{"DomainMap", "SubnetIds", "VpcId"}; !slices.Equal(required, want) {
		t.Errorf("parameters without Default = %q, want %q", required, want)
	}
}

// imageDefault is the published image at the Helm chart's appVersion:
// both deployment paths start from the same image.
func imageDefault(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("helm/socketx/Chart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `yaml:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("Chart.yaml appVersion: %q %v", chart.AppVersion, err)
	}
	return "ghcr.io/socketx/socketx-server:" + chart.AppVersion
}

// extraEnvPairs is how many ExtraEnvName/ExtraEnvValue pairs the template
// offers.
const extraEnvPairs = 4

// container returns the socketx container definition.
func (tpl *cfnTemplate) container(t *testing.T) *yaml.Node {
	t.Helper()
	c := path(tpl.resources["TaskDefinition"], "Properties", "ContainerDefinitions")
	if c == nil || len(c.Content) != 1 {
		t.Fatal("want one container definition")
	}
	return c.Content[0]
}

// envEntry returns the Environment or Secrets entry named name: a
// {Name, Value|ValueFrom} mapping, or the !If around one.
func envEntry(list *yaml.Node, name string) *yaml.Node {
	for _, e := range list.Content {
		kv := e
		if e.Tag == "!If" {
			kv = e.Content[1]
		}
		if n := get(kv, "Name"); n != nil && n.Value == name {
			return e
		}
	}
	return nil
}

// durationConst reads `name = N * time.Second` from a Go source file.
func durationConst(t *testing.T, file, name string) time.Duration {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(name + `\s*=\s*(\d+) \* time\.Second`).FindSubmatch(src)
	if m == nil {
		t.Fatalf("%s: no %s = N * time.Second", file, name)
	}
	return time.Duration(atoi(t, name, string(m[1]))) * time.Second
}

// TestTemplateDrainTimeline checks the numbers of docs/DEPLOY.md's stop
// timeline: ECS marks the task STOPPED and deregisters it; the proxy
// notices within one poll and drains for DRAIN_TIMEOUT; the ALB keeps the
// connections for the deregistration delay; SIGTERM follows; the stop
// timeout covers a drain that starts only then plus the metering flush.
func TestTemplateDrainTimeline(t *testing.T) {
	tpl := loadTemplate(t)
	c := tpl.container(t)
	drain, err := time.ParseDuration(attr(get(c, "Environment"), "DRAIN_TIMEOUT"))
	if err != nil {
		t.Fatalf("DRAIN_TIMEOUT: %v", err)
	}
	tg := path(tpl.resources["TargetGroup"], "Properties")
	dereg := time.Duration(atoi(t, "deregistration_delay", attr(get(tg, "TargetGroupAttributes"), "deregistration_delay.timeout_seconds"))) * time.Second
	notice := ecsmeta.DefaultInterval + ecsmeta.DefaultTimeout
	const margin = 5 * time.Second
	if dereg < drain+notice+margin {
		t.Errorf("deregistration delay %v < DRAIN_TIMEOUT %v + %v to notice STOPPED + %v margin: the ALB cuts clients before their 1001", dereg, drain, notice, margin)
	}
	if dereg > 2*time.Minute {
		t.Errorf("deregistration delay %v: every deployment waits it per task", dereg)
	}
	stop := time.Duration(atoi(t, "StopTimeout", get(c, "StopTimeout").Value)) * time.Second
	flush := durationConst(t, "../cmd/socketx/serve.go", "flushTimeout")
	if stop < drain+flush {
		t.Errorf("StopTimeout %v < DRAIN_TIMEOUT %v + metering flush %v", stop, drain, flush)
	}
	if stop > 120*time.Second {
		t.Errorf("StopTimeout %v is above the Fargate maximum of 120 s", stop)
	}
	// A draining task (/ready 503) leaves rotation fast.
	interval := atoi(t, "HealthCheckIntervalSeconds", get(tg, "HealthCheckIntervalSeconds").Value)
	timeout := atoi(t, "HealthCheckTimeoutSeconds", get(tg, "HealthCheckTimeoutSeconds").Value)
	unhealthy := atoi(t, "UnhealthyThresholdCount", get(tg, "UnhealthyThresholdCount").Value)
	if timeout >= interval || interval*unhealthy > 10 {
		t.Errorf("health check %d s x %d (timeout %d s): a draining task must leave rotation within 10 s", interval, unhealthy, timeout)
	}
	if got := get(tg, "HealthCheckPath").Value; got != "/ready" {
		t.Errorf("HealthCheckPath = %q, want /ready (503 while draining)", got)
	}
	t.Logf("stop timeline: drain starts <= %v after STOPPED and lasts at most DRAIN_TIMEOUT %v, deregistration delay %v, stop timeout %v (drain %v + flush %v)",
		notice, drain, dereg, stop, drain, flush)
}

// TestTemplateLicenseSecrets: MTE_LICENSE_KEY, MTE_COMPANY_NAME,
// UPSTREAM_CA_PEM and MTE_SERVER_KEYS come from Secrets Manager or SSM
// through ECS Secrets when their ARN is given;
// the execution role may read exactly those ARNs and nothing else.
func TestTemplateLicenseSecrets(t *testing.T) {
	tpl := loadTemplate(t)
	c := tpl.container(t)
	secretsIf := get(c, "Secrets")
	if secretsIf == nil || secretsIf.Tag != "!If" || secretsIf.Content[0].Value != "HasSecrets" || secretsIf.Content[2].Value != "AWS::NoValue" ||
		len(secretsIf.Content[1].Content) != 4 {
		t.Fatalf("Secrets must be !If [HasSecrets, [four entries], !Ref AWS::NoValue]")
	}
	secrets := secretsIf.Content[1]
	for name, param := range map[string]string{"MTE_LICENSE_KEY": "LicenseKeySecretArn", "MTE_COMPANY_NAME": "CompanyNameSecretArn", "UPSTREAM_CA_PEM": "UpstreamCaSecretArn",
		"MTE_SERVER_KEYS": "ServerKeysSecretArn"} {
		cond := "Has" + strings.TrimSuffix(param, "Arn")
		e := envEntry(secrets, name)
		if e == nil || e.Tag != "!If" || e.Content[0].Value != cond {
			t.Errorf("secret %s: want !If [%s, {Name, ValueFrom}, !Ref AWS::NoValue]", name, cond)
			continue
		}
		if vf := get(e.Content[1], "ValueFrom"); vf == nil || vf.Tag != "!Ref" || vf.Value != param {
			t.Errorf("secret %s ValueFrom = %v, want !Ref %s", name, vf, param)
		}
		if e.Content[2].Tag != "!Ref" || e.Content[2].Value != "AWS::NoValue" {
			t.Errorf("secret %s: empty %s must leave it unset", name, param)
		}
		if envEntry(get(c, "Environment"), name) != nil {
			t.Errorf("%s is in Environment too", name)
		}
		if c := tpl.conditions[cond]; c == nil || c.Tag != "!Not" || c.Content[0].Content[0].Value != param || c.Content[0].Content[1].Value != "" {
			t.Errorf("condition %s must be !Not [!Equals [!Ref %s, \"\"]]", cond, param)
		}
		pattern := regexp.MustCompile(get(tpl.params[param], "AllowedPattern").Value)
		for arn, ok := range map[string]bool{
			"": true,
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:socketx/license-AbCdEf": true,
			"arn:aws:ssm:us-east-1:123456789012:parameter/socketx/license":                true,
			"arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/socketx/license":     true,
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf:key::":         false, // JSON key: the role would not match
			"socketx/license":             false,
			"arn:aws:s3:::bucket/license": false,
		} {
			if pattern.MatchString(arn) != ok {
				t.Errorf("%s AllowedPattern on %q: match %v, want %v", param, arn, !ok, ok)
			}
		}
	}

	// The execution role's inline policy, only with a secret, on exactly
	// the given ARNs.
	pols := path(tpl.resources["ExecutionRole"], "Properties", "Policies")
	if pols == nil || len(pols.Content) != 1 || pols.Content[0].Tag != "!If" || pols.Content[0].Content[0].Value != "HasSecrets" ||
		pols.Content[0].Content[2].Value != "AWS::NoValue" {
		t.Fatal("ExecutionRole Policies must be [!If [HasSecrets, policy, !Ref AWS::NoValue]]")
	}
	stmts := path(pols.Content[0].Content[1], "PolicyDocument", "Statement").Content
	if len(stmts) != 1 {
		t.Fatalf("%d statements, want 1", len(stmts))
	}
	var actions, resources []string
	for _, a := range get(stmts[0], "Action").Content {
		actions = append(actions, a.Value)
	}
	for _, r := range get(stmts[0], "Resource").Content {
		if r.Tag != "!If" || r.Content[2].Value != "AWS::NoValue" {
			t.Errorf("line %d: resource must be !If [cond, !Ref arn, !Ref AWS::NoValue]", r.Line)
			continue
		}
		resources = append(resources, r.Content[0].Value+"="+r.Content[1].Value)
	}
	if want := []string{"secretsmanager:GetSecretValue", "ssm:GetParameters"}; !slices.Equal(actions, want) {
		t.Errorf("actions = %q, want %q", actions, want)
	}
	if want := []string{"HasLicenseKeySecret=LicenseKeySecretArn", "HasCompanyNameSecret=CompanyNameSecretArn", "HasUpstreamCaSecret=UpstreamCaSecretArn",
		"HasServerKeysSecret=ServerKeysSecretArn"}; !slices.Equal(resources, want) {
		t.Errorf("resources = %q, want %q", resources, want)
	}
	hs := tpl.conditions["HasSecrets"]
	if hs == nil || hs.Tag != "!Or" || len(hs.Content) != 4 || hs.Content[0].Value != "HasLicenseKeySecret" || hs.Content[1].Value != "HasCompanyNameSecret" ||
		hs.Content[2].Value != "HasUpstreamCaSecret" || hs.Content[3].Value != "HasServerKeysSecret" {
		t.Error("HasSecrets must be !Or [!Condition HasLicenseKeySecret, !Condition HasCompanyNameSecret, !Condition HasUpstreamCaSecret, !Condition HasServerKeysSecret]")
	}
	// Nothing else in the template reads secrets.
	walk(get(tpl.root, "Resources"), func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && (strings.HasPrefix(n.Value, "secretsmanager:") || strings.HasPrefix(n.Value, "ssm:") || strings.HasPrefix(n.Value, "kms:")) &&
			n.Line != get(stmts[0], "Action").Content[0].Line && n.Line != get(stmts[0], "Action").Content[1].Line {
			t.Errorf("line %d: %s granted outside the license secrets policy", n.Line, n.Value)
		}
	})
}

// TestTemplateEnvironment: the variables the parameters set, and the extra
// pairs that cannot replace them.
func TestTemplateEnvironment(t *testing.T) {
	tpl := loadTemplate(t)
	c := tpl.container(t)
	env := get(c, "Environment")
	for name, param := range map[string]string{"MAX_CONNECTIONS": "MaxConnections", "MTE_KYBER_STRENGTH": "KyberStrength",
		"METRICS_EMF": "MetricsEmf", "LOG_LEVEL": "LogLevel", "DOMAIN_MAP": "DomainMap"} {
		e := envEntry(env, name)
		if e == nil || get(e, "Value").Tag != "!Ref" || get(e, "Value").Value != param {
			t.Errorf("%s must be !Ref %s", name, param)
		}
	}
	// TRUSTED_PROXIES: TrustedProxies, else VpcCidr, else the private ranges.
	tp := get(envEntry(env, "TRUSTED_PROXIES"), "Value")
	if tp == nil || tp.Tag != "!If" || tp.Content[0].Value != "HasTrustedProxies" || tp.Content[1].Value != "TrustedProxies" {
		t.Fatal("TRUSTED_PROXIES must be !If [HasTrustedProxies, !Ref TrustedProxies, ...]")
	}
	inner := tp.Content[2]
	if inner.Tag != "!If" || inner.Content[0].Value != "HasVpcCidr" || inner.Content[1].Value != "VpcCidr" ||
		inner.Content[2].Value != "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10" {
		t.Error("TRUSTED_PROXIES fallback must be !If [HasVpcCidr, !Ref VpcCidr, private ranges]")
	}
	for _, p := range []string{"TrustedProxies", "VpcCidr"} {
		re := regexp.MustCompile(get(tpl.params[p], "AllowedPattern").Value)
		if !re.MatchString("") || !re.MatchString("10.0.0.0/16") || re.MatchString("10.0.0.0") || re.MatchString("vpc-123") {
			t.Errorf("%s AllowedPattern %s", p, re)
		}
	}
	if !regexp.MustCompile(get(tpl.params["TrustedProxies"], "AllowedPattern").Value).MatchString("10.0.0.0/16,10.1.0.0/16") {
		t.Error("TrustedProxies must take a comma-separated list")
	}

	// Every name the template sets (environment and secrets) is refused as
	// an extra name by the rule, and nothing else is.
	var set []string
	for _, list := range []*yaml.Node{env, get(c, "Secrets").Content[1]} {
		for _, e := range list.Content {
			kv := e
			if e.Tag == "!If" {
				kv = e.Content[1]
			}
			if n := get(kv, "Name"); n.Tag == "!If" { // the product code's name depends on the strategy
				set = append(set, n.Content[1].Value, n.Content[2].Value)
			} else if n.Tag == "" || n.Tag == "!!str" {
				set = append(set, n.Value)
			}
		}
	}
	sort.Strings(set)
	asserts := path(tpl.rules["ExtraEnvironmentNames"], "Assertions").Content
	if len(asserts) != 2*extraEnvPairs {
		t.Fatalf("rule ExtraEnvironmentNames has %d assertions, want %d", len(asserts), 2*extraEnvPairs)
	}
	for i := 1; i <= extraEnvPairs; i++ {
		name, value := "ExtraEnvName"+strconv.Itoa(i), "ExtraEnvValue"+strconv.Itoa(i)
		contains := path(asserts[2*(i-1)], "Assert", "Fn::Not").Content[0]
		args := get(contains, "Fn::Contains")
		var reserved []string
		for _, n := range args.Content[0].Content {
			reserved = append(reserved, n.Value)
		}
		sort.Strings(reserved)
		if !slices.Equal(reserved, set) || get(args.Content[1], "Ref").Value != name {
			t.Errorf("rule for %s refuses %q, want exactly the names the template sets %q", name, reserved, set)
		}
		e := envEntry(env, "")
		for _, x := range env.Content {
			if x.Tag == "!If" && x.Content[0].Value == "HasExtraEnv"+strconv.Itoa(i) {
				e = x
			}
		}
		if e == nil || get(e.Content[1], "Name").Value != name || get(e.Content[1], "Value").Value != value || e.Content[2].Value != "AWS::NoValue" {
			t.Errorf("environment lacks !If [HasExtraEnv%d, {Name: !Ref %s, Value: !Ref %s}, !Ref AWS::NoValue]", i, name, value)
		}
		re := regexp.MustCompile(get(tpl.params[name], "AllowedPattern").Value)
		if !re.MatchString("") || !re.MatchString("WS_MAX_QUEUED_BYTES") || re.MatchString("lower") || re.MatchString("A=B") {
			t.Errorf("%s AllowedPattern %s", name, re)
		}
	}
}

// emfMetricNames reads the metric names telemetry/emf.go emits.
func emfMetricNames(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../telemetry/emf.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`\{"([A-Za-z]+)", "(Count|Bytes|Microseconds|Seconds)"`).FindAllSubmatch(src, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 15 {
		t.Fatalf("found %d EMF metrics in telemetry/emf.go", len(names))
	}
	return names
}

// TestTemplateMonitoring: the dashboard charts every EMF metric the proxy
// emits (and no other SocketX metric), with the namespace and dimension
// serve.go uses; every alarm names a metric that exists, notifies
// AlarmTopicArn when set, and the SocketX alarms exist only with EMF on.
func TestTemplateMonitoring(t *testing.T) {
	tpl := loadTemplate(t)
	emf := emfMetricNames(t)
	serve, err := os.ReadFile("../cmd/socketx/serve.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(serve), `Namespace: "SocketX", Service: "socketx"`) {
		t.Fatal("serve.go no longer emits namespace SocketX with Service=socketx: update the dashboard and alarms")
	}

	body := path(tpl.resources["Dashboard"], "Properties", "DashboardBody")
	if body == nil || body.Tag != "!Sub" {
		t.Fatal("Dashboard DashboardBody must be a !Sub string")
	}
	for _, r := range subRefs(body.Value) {
		tpl.checkRef(t, body, r, true)
	}
	jsonText := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body.Value, "x")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Region  string  `json:"region"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(jsonText), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON once substituted: %v", err)
	}
	charted := map[string]bool{}
	namespaces := map[string]bool{}
	for _, w := range dash.Widgets {
		if w.Properties.Region != "x" || w.Properties.Title == "" {
			t.Errorf("widget %q: region must be ${AWS::Region} and a title set", w.Properties.Title)
		}
		for _, m := range w.Properties.Metrics {
			ns, _ := m[0].(string)
			name, _ := m[1].(string)
			namespaces[ns] = true
			if ns != "SocketX" {
				continue
			}
			if !slices.Contains(emf, name) {
				t.Errorf("dashboard charts SocketX %s, which telemetry/emf.go does not emit", name)
			}
			if len(m) < 4 || m[2] != "Service" || m[3] != "socketx" {
				t.Errorf("dashboard SocketX %s: want dimension Service=socketx, got %v", name, m)
			}
			charted[name] = true
		}
	}
	for _, name := range emf {
		if !charted[name] {
			t.Errorf("EMF metric %s is not on the dashboard", name)
		}
	}
	for _, ns := range []string{"SocketX", "AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights"} {
		if !namespaces[ns] {
			t.Errorf("dashboard has no %s metric", ns)
		}
	}

	var alarms []string
	for name, r := range tpl.resources {
		if get(r, "Type").Value != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms = append(alarms, name)
		p := get(r, "Properties")
		ns, metric := get(p, "Namespace").Value, get(p, "MetricName").Value
		cond := get(r, "Condition")
		if ns == "SocketX" {
			if !slices.Contains(emf, metric) {
				t.Errorf("alarm %s on SocketX %s, which telemetry/emf.go does not emit", name, metric)
			}
			if cond == nil || cond.Value != "EmfEnabled" {
				t.Errorf("alarm %s reads EMF metrics: want Condition EmfEnabled", name)
			}
			if d := get(p, "Dimensions").Content; len(d) != 1 || get(d[0], "Name").Value != "Service" || get(d[0], "Value").Value != "socketx" {
				t.Errorf("alarm %s: want dimension Service=socketx", name)
			}
		} else if cond != nil {
			t.Errorf("alarm %s on %s needs no condition", name, ns)
		}
		for _, k := range []string{"AlarmActions", "OKActions"} {
			a := get(p, k)
			if a == nil || a.Tag != "!If" || a.Content[0].Value != "HasAlarmTopic" || a.Content[1].Content[0].Value != "AlarmTopicArn" || a.Content[2].Value != "AWS::NoValue" {
				t.Errorf("alarm %s %s must be !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]", name, k)
			}
		}
		if get(p, "TreatMissingData") == nil {
			t.Errorf("alarm %s: set TreatMissingData (EMF metrics are absent while idle)", name)
		}
	}
	sort.Strings(alarms)
	want := []string{"AcceptErrorsAlarm", "CpuHighAlarm", "ErrorClosesAlarm", "MemoryHighAlarm", "NoHealthyTargetsAlarm",
		"PairingFailuresAlarm", "ShedConnectionsAlarm", "UnhealthyTargetsAlarm", "UpstreamFailuresAlarm"}
	if !slices.Equal(alarms, want) {
		t.Errorf("alarms = %q, want %q", alarms, want)
	}
}
