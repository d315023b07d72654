package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
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
	if d := get(tpl.params["CertificateArn"], "Default"); d == nil || d.Value != "" {
		t.Error(`CertificateArn must be optional (Default "")`)
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
	if d := atoi(t, "deregistration_delay", attr(get(tg, "TargetGroupAttributes"), "deregistration_delay.timeout_seconds")); d < 30 || d > 60 {
		t.Errorf("deregistration_delay.timeout_seconds = %d, want 30..60", d)
	}
	for k, want := range map[string]string{"HealthCheckPath": "/health", "HealthCheckPort": "8080", "Port": "8080", "TargetType": "ip"} {
		if got := get(tg, k).Value; got != want {
			t.Errorf("TargetGroup %s = %q, want %q", k, got, want)
		}
	}

	td := props("TaskDefinition")
	if got := path(td, "RuntimePlatform", "CpuArchitecture"); got.Tag != "!Ref" || got.Value != "CpuArchitecture" {
		t.Error("RuntimePlatform.CpuArchitecture must be !Ref CpuArchitecture")
	}
	c := get(td, "ContainerDefinitions").Content[0]
	stop := atoi(t, "StopTimeout", get(c, "StopTimeout").Value)
	if stop != 120 {
		t.Errorf("StopTimeout = %d, want 120 (the Fargate maximum)", stop)
	}
	env := get(c, "Environment")
	drain, err := time.ParseDuration(attr(env, "DRAIN_TIMEOUT"))
	if err != nil {
		t.Fatalf("DRAIN_TIMEOUT: %v", err)
	}
	if drain+10*time.Second > time.Duration(stop)*time.Second {
		t.Errorf("DRAIN_TIMEOUT %v must end at least 10 s before StopTimeout %d s", drain, stop)
	}
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
		found := false
		for _, kv := range env.Content {
			if get(kv, "Name").Value == name {
				found = true
			}
		}
		if !found {
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

func TestParametersExample(t *testing.T) {
	tpl := loadTemplate(t)
	data, err := os.ReadFile("aws/parameters.json")
	if err != nil {
		t.Fatal(err)
	}
	var params []struct{ ParameterKey, ParameterValue string }
	if err := json.Unmarshal(data, &params); err != nil {
		t.Fatal(err)
	}
	given := map[string]string{}
	for _, p := range params {
		decl := tpl.params[p.ParameterKey]
		if decl == nil {
			t.Errorf("parameters.json: %s is not a template parameter", p.ParameterKey)
			continue
		}
		given[p.ParameterKey] = p.ParameterValue
		if av := get(decl, "AllowedValues"); av != nil {
			ok := false
			for _, v := range av.Content {
				ok = ok || v.Value == p.ParameterValue
			}
			if !ok {
				t.Errorf("parameters.json: %s=%q is not an allowed value", p.ParameterKey, p.ParameterValue)
			}
		}
	}
	for name, decl := range tpl.params {
		if get(decl, "Default") == nil {
			if _, ok := given[name]; !ok {
				t.Errorf("parameters.json lacks required parameter %s", name)
			}
		}
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
}
