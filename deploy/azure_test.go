package deploy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/socketx/socketx-server/config"
)

// The Azure Marketplace Kubernetes-application offer in azure/: the CNAB
// manifest, the ARM template that creates the cluster extension and the
// portal UI definition. These tests check that the three files and the chart
// agree with each other; nothing here talks to Azure.

const azureDir = "azure"

// exampleDomainMap is the DOMAIN_MAP example of the product's AKS docs.
const exampleDomainMap = `{"api.example.com": {"upstream": "wss://backend.example.com/socket", "allowedOrigins": ["https://app.example.com"]}, "*": {"upstream": "ws://default-backend:8080", "allowedOrigins": ["*"]}}`

func readJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: trailing data after the JSON object", path)
	}
	return m
}

func readYAMLFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func armTemplate(t *testing.T) map[string]any {
	return readJSONFile(t, filepath.Join(azureDir, "mainTemplate.json"))
}

func uiDefinition(t *testing.T) map[string]any {
	return readJSONFile(t, filepath.Join(azureDir, "createUiDefinition.json"))
}

func objectAt(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	m, ok := dig(v, keys...).(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object", strings.Join(keys, "."))
	}
	return m
}

func TestAzureManifest(t *testing.T) {
	m := readYAMLFile(t, filepath.Join(azureDir, "manifest.yaml"))
	for _, k := range []string{"applicationName", "publisher", "description", "version", "helmChart", "clusterArmTemplate", "uiDefinition", "registryServer"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("manifest.yaml: %s missing or not a string", k)
		}
	}
	for _, k := range []string{"helmChart", "clusterArmTemplate", "uiDefinition"} {
		p, _ := m[k].(string)
		if _, err := os.Stat(filepath.Join(azureDir, p)); err != nil {
			t.Errorf("manifest.yaml %s: %v", k, err)
		}
	}
	if p, _ := m["helmChart"].(string); filepath.Clean(filepath.Join(azureDir, p)) != filepath.Clean(chartDir) {
		t.Errorf("manifest.yaml helmChart %q is not %s", p, chartDir)
	}
	chart := readYAMLFile(t, filepath.Join(chartDir, "Chart.yaml"))
	v, _ := m["version"].(string)
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(v) {
		t.Errorf("manifest.yaml version %q: cpa wants #.#.#", v)
	}
	if v != chart["version"] || v != chart["appVersion"] {
		t.Errorf("manifest.yaml version %q, Chart.yaml version %v appVersion %v: all three must be equal", v, chart["version"], chart["appVersion"])
	}
	if r, _ := m["registryServer"].(string); !strings.HasSuffix(r, ".azurecr.io") {
		t.Errorf("registryServer %q is not an Azure Container Registry", r)
	}
	reg := objectAt(t, m, "extensionRegistrationParameters")
	switch reg["defaultScope"] {
	case "cluster":
		ns, _ := reg["namespace"].(string)
		if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`).MatchString(ns) {
			t.Errorf("namespace %q: required with defaultScope cluster, and a DNS-1123 label", ns)
		}
	case "namespace":
	default:
		t.Errorf("defaultScope %v: want cluster or namespace", reg["defaultScope"])
	}
	managed, _ := dig(reg, "supportedClusterTypes", "managedClusters").([]any)
	if len(managed) == 0 || dig(managed[0], "distributionSupported") != true {
		t.Errorf("supportedClusterTypes.managedClusters = %v, want AKS supported", managed)
	}
}

// armRef finds parameters('x') and variables('x') inside template expressions.
var armRef = regexp.MustCompile(`\b(parameters|variables)\('([^']*)'\)`)

// walkStrings calls fn with every string value under v and its path.
func walkStrings(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case map[string]any:
		for k, e := range x {
			walkStrings(e, path+"."+k, fn)
		}
	case []any:
		for i, e := range x {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// checkExpression reports unbalanced brackets, parentheses or quotes in a
// template-language expression ("[...]"; "[[" escapes a literal).
func checkExpression(s string) error {
	if !strings.HasPrefix(s, "[") || strings.HasPrefix(s, "[[") {
		return nil
	}
	if !strings.HasSuffix(s, "]") {
		return errors.New("expression does not end with ]")
	}
	depth, inQuote := 0, false
	for i := 1; i < len(s)-1; i++ {
		switch c := s[i]; {
		case c == '\'':
			if inQuote && i+1 < len(s)-1 && s[i+1] == '\'' {
				i++ // '' is an escaped quote
				continue
			}
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return errors.New("unbalanced )")
			}
		}
	}
	if inQuote || depth != 0 {
		return errors.New("unbalanced quotes or parentheses")
	}
	return nil
}

func TestAzureTemplateReferences(t *testing.T) {
	tpl := armTemplate(t)
	params := objectAt(t, tpl, "parameters")
	vars := objectAt(t, tpl, "variables")
	used := map[string]bool{}
	walkStrings(tpl, "", func(path, s string) {
		if err := checkExpression(s); err != nil {
			t.Errorf("%s: %q: %v", path, s, err)
		}
		if !strings.HasPrefix(s, "[") {
			return
		}
		for _, m := range armRef.FindAllStringSubmatch(s, -1) {
			kind, name := m[1], m[2]
			used[kind+"/"+name] = true
			if kind == "parameters" && params[name] == nil {
				t.Errorf("%s: parameters('%s') is not declared", path, name)
			}
			if kind == "variables" && vars[name] == nil {
				t.Errorf("%s: variables('%s') is not declared", path, name)
			}
		}
	})
	for name := range params {
		if !used["parameters/"+name] {
			t.Errorf("parameter %s is declared but never used", name)
		}
	}
	for name := range vars {
		if !used["variables/"+name] {
			t.Errorf("variable %s is declared but never used", name)
		}
	}
	for name, p := range params {
		checkParameterDefault(t, name, p.(map[string]any))
	}

	// Marketplace Kubernetes apps may deploy only these resource types.
	var ext map[string]any
	for _, r := range tpl["resources"].([]any) {
		r := r.(map[string]any)
		switch r["type"] {
		case "Microsoft.ContainerService/managedClusters":
			if r["condition"] != "[parameters('createNewCluster')]" {
				t.Errorf("the AKS cluster must be created only when createNewCluster, condition = %v", r["condition"])
			}
		case "Microsoft.KubernetesConfiguration/extensions":
			ext = r
		default:
			t.Errorf("resource type %v is not allowed in a Kubernetes-app offer", r["type"])
		}
	}
	if ext == nil {
		t.Fatal("no Microsoft.KubernetesConfiguration/extensions resource")
	}
	for _, k := range []string{"publisher", "product", "name"} {
		if s, _ := dig(ext, "plan", k).(string); s == "" {
			t.Errorf("extension plan.%s missing", k)
		}
	}
	if s, _ := dig(ext, "properties", "extensionType").(string); s == "" {
		t.Error("extension properties.extensionType missing")
	}
	if !strings.Contains(fmt.Sprint(ext["scope"]), "Microsoft.ContainerService/managedClusters/") {
		t.Errorf("extension scope %v is not the AKS cluster", ext["scope"])
	}
	for name, o := range objectAt(t, tpl, "outputs") {
		switch typ := strings.ToLower(fmt.Sprint(dig(o, "type"))); typ {
		case "string", "int", "bool", "object", "array":
		default:
			t.Errorf("output %s: type %q", name, typ)
		}
	}
}

// checkParameterDefault checks a parameter's default against its own
// allowedValues and range (expressions are left to ARM).
func checkParameterDefault(t *testing.T, name string, p map[string]any) {
	t.Helper()
	typ := strings.ToLower(fmt.Sprint(p["type"]))
	switch typ {
	case "string", "securestring", "int", "bool", "object", "secureobject", "array":
	default:
		t.Errorf("parameter %s: type %q", name, typ)
	}
	d, ok := p["defaultValue"]
	if !ok {
		return
	}
	if s, isStr := d.(string); isStr && strings.HasPrefix(s, "[") {
		return
	}
	if allowed, ok := p["allowedValues"].([]any); ok && !slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == fmt.Sprint(d) }) {
		t.Errorf("parameter %s: default %v not in allowedValues %v", name, d, allowed)
	}
	if typ == "int" {
		n, err := d.(json.Number).Int64()
		if err != nil {
			t.Errorf("parameter %s: default %v is not an int", name, d)
		}
		if lo, ok := p["minValue"].(json.Number); ok && n < mustInt(lo) {
			t.Errorf("parameter %s: default %d below minValue %s", name, n, lo)
		}
		if hi, ok := p["maxValue"].(json.Number); ok && n > mustInt(hi) {
			t.Errorf("parameter %s: default %d above maxValue %s", name, n, hi)
		}
	}
}

func mustInt(n json.Number) int64 {
	i, err := n.Int64()
	if err != nil {
		panic(err)
	}
	return i
}

// uiElements indexes the createUiDefinition elements by the path an output
// expression uses: basics('name') or steps('step').section.name.
func uiElements(ui map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	var add func(prefix string, elems []any)
	add = func(prefix string, elems []any) {
		for _, e := range elems {
			e := e.(map[string]any)
			name := e["name"].(string)
			out[prefix+"."+name] = e
			if sub, ok := e["elements"].([]any); ok {
				add(prefix+"."+name, sub)
			}
		}
	}
	for _, e := range dig(ui, "parameters", "basics").([]any) {
		name := e.(map[string]any)["name"].(string)
		out["basics('"+name+"')"] = e.(map[string]any)
	}
	for _, s := range dig(ui, "parameters", "steps").([]any) {
		s := s.(map[string]any)
		add("steps('"+s["name"].(string)+"')", s["elements"].([]any))
	}
	return out
}

var uiRef = regexp.MustCompile(`basics\('[^']*'\)|steps\('[^']*'\)(\.[A-Za-z0-9_]+)+`)

// uiValueType is the ARM type of the value an element outputs.
func uiValueType(e map[string]any) (string, error) {
	switch e["type"] {
	case "Microsoft.Common.TextBox", "Microsoft.Compute.SizeSelector":
		return "string", nil
	case "Microsoft.Common.PasswordBox":
		return "securestring", nil
	case "Microsoft.Common.Slider":
		return "int", nil
	case "Microsoft.Common.CheckBox":
		return "bool", nil
	case "Microsoft.Common.DropDown", "Microsoft.Common.OptionsGroup":
		allowed, ok := dig(e, "constraints", "allowedValues").([]any)
		if !ok {
			return "string", nil // built by an expression from label/value strings
		}
		types := map[string]bool{}
		for _, a := range allowed {
			switch dig(a, "value").(type) {
			case string:
				types["string"] = true
			case bool:
				types["bool"] = true
			case json.Number:
				types["int"] = true
			default:
				return "", fmt.Errorf("option %v: unsupported value", a)
			}
		}
		if len(types) != 1 {
			return "", fmt.Errorf("options of mixed types %v", types)
		}
		for k := range types {
			return k, nil
		}
	}
	return "", fmt.Errorf("element type %v has no known value type", e["type"])
}

func TestAzureUIOutputsFeedTemplate(t *testing.T) {
	ui, tpl := uiDefinition(t), armTemplate(t)
	if ui["handler"] != "Microsoft.Azure.CreateUIDef" || ui["version"] != "0.1.2-preview" {
		t.Errorf("handler %v version %v", ui["handler"], ui["version"])
	}
	elems := uiElements(ui)
	params := objectAt(t, tpl, "parameters")
	outputs := objectAt(t, ui, "parameters", "outputs")
	for name, expr := range outputs {
		p, ok := params[name].(map[string]any)
		if !ok {
			t.Errorf("UI output %s has no mainTemplate parameter", name)
			continue
		}
		want := strings.ToLower(fmt.Sprint(p["type"]))
		s := expr.(string)
		var got []string
		switch {
		case s == "[location()]":
			got = []string{"string"}
		case strings.HasPrefix(s, "[int("):
			got = []string{"int"} // int() converts the referenced text
		default:
			for _, ref := range uiRef.FindAllString(s, -1) {
				e, ok := elems[ref]
				if !ok {
					t.Errorf("UI output %s: %s is not an element", name, ref)
					continue
				}
				typ, err := uiValueType(e)
				if err != nil {
					t.Errorf("UI output %s: %s: %v", name, ref, err)
					continue
				}
				got = append(got, typ)
			}
			// if(cond, a, b): the condition's type is not the value's.
			if strings.HasPrefix(s, "[if(") && len(got) == 3 {
				got = got[1:]
			}
		}
		if len(got) == 0 {
			t.Errorf("UI output %s = %s: no element referenced", name, s)
		}
		for _, g := range got {
			if g != want && !(g == "securestring" && want == "string") && !(g == "string" && want == "securestring") {
				t.Errorf("UI output %s is %s, mainTemplate parameter is %s", name, g, want)
			}
			if g == "securestring" && want != "securestring" {
				t.Errorf("UI output %s comes from a PasswordBox; its parameter must be securestring", name)
			}
		}
	}
	for name, p := range params {
		if _, hasDefault := p.(map[string]any)["defaultValue"]; !hasDefault && outputs[name] == nil {
			t.Errorf("mainTemplate parameter %s has no default and no UI output", name)
		}
	}

	// Option lists and ranges agree between the portal and the template.
	app := "steps('applicationDetails')."
	for out, elem := range map[string]string{"logLevel": "logLevel", "serviceType": "serviceType", "billingStrategy": "billingStrategy", "mteKyberStrength": "mteKyberStrength"} {
		e := elems[app+elem]
		var opts []string
		for _, a := range dig(e, "constraints", "allowedValues").([]any) {
			opts = append(opts, dig(a, "value").(string))
			if dig(a, "label") == e["defaultValue"] && dig(a, "value") != dig(params[out], "defaultValue") {
				t.Errorf("%s: portal default %v, template default %v", out, dig(a, "value"), dig(params[out], "defaultValue"))
			}
		}
		var allowed []string
		for _, a := range dig(params[out], "allowedValues").([]any) {
			allowed = append(allowed, a.(string))
		}
		sort.Strings(opts)
		sort.Strings(allowed)
		if !slices.Equal(opts, allowed) {
			t.Errorf("%s: portal options %v, template allowedValues %v", out, opts, allowed)
		}
	}
	rc := elems[app+"replicaCount"]
	if fmt.Sprint(rc["min"]) != "1" || fmt.Sprint(rc["max"]) != "10" ||
		fmt.Sprint(dig(params["replicaCount"], "minValue")) != "1" || fmt.Sprint(dig(params["replicaCount"], "maxValue")) != "10" {
		t.Errorf("replica count must be 1..10 in the portal (%v..%v) and the template (%v..%v)",
			rc["min"], rc["max"], dig(params["replicaCount"], "minValue"), dig(params["replicaCount"], "maxValue"))
	}
	for _, path := range []string{app + "mteCompanyName", app + "mteLicenseKey"} {
		re := regexp.MustCompile(dig(elems[path], "constraints", "regex").(string))
		for _, bad := range []string{"a,b", `a\b`} {
			if re.MatchString(bad) {
				t.Errorf("%s accepts %q, which breaks Helm --set", path, bad)
			}
		}
	}
	keys := regexp.MustCompile(dig(elems[app+"mteServerKeys"], "constraints", "regex").(string))
	for _, ok := range []string{"", testServerKey(1), testServerKey(1) + "," + testServerKey(2)} {
		if !keys.MatchString(ok) {
			t.Errorf("server keys regex rejects %q", ok)
		}
	}
	for _, bad := range []string{testServerKey(1) + ",", testServerKey(1)[:87], `a\b`, "-----BEGIN SOCKETX MLKEM768 SERVER KEY-----",
		testServerKey(1) + ", " + testServerKey(2)} {
		if keys.MatchString(bad) {
			t.Errorf("server keys regex accepts %q", bad)
		}
	}
	lic := regexp.MustCompile(dig(elems[app+"mteLicenseKey"], "constraints", "regex").(string))
	if lic.MatchString("123456") || !lic.MatchString("") || !lic.MatchString("k3y+/=") {
		t.Error("license key regex: want digits-only rejected (Helm would make it a number), empty and base64 accepted")
	}
}

// configurationSettings returns both settings maps of the extension resource.
func configurationSettings(t *testing.T, tpl map[string]any) (plain, protected map[string]any) {
	t.Helper()
	for _, r := range tpl["resources"].([]any) {
		if dig(r, "type") == "Microsoft.KubernetesConfiguration/extensions" {
			return objectAt(t, r, "properties", "configurationSettings"), objectAt(t, r, "properties", "configurationProtectedSettings")
		}
	}
	t.Fatal("no extension resource")
	return nil, nil
}

// splitValuePath splits a Helm --set key into map keys and list indexes:
// `a.b\.c[2].d` is ["a", "b.c", "[2]", "d"].
func splitValuePath(key string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '\\':
			if i+1 < len(key) {
				i++
				cur.WriteByte(key[i])
			}
		case '.':
			flush()
		case '[':
			flush()
			j := strings.IndexByte(key[i:], ']')
			if j < 0 {
				cur.WriteString(key[i:])
				i = len(key)
				continue
			}
			out = append(out, key[i:i+j+1])
			i += j
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// schemaAccepts reports whether the values schema declares the value path
// and lets it hold a string (configuration settings are strings).
// Free-form objects (no properties, additionalProperties not false) accept
// any key below them.
func schemaAccepts(root map[string]any, path []string) error {
	resolve := func(n map[string]any) map[string]any {
		for n["$ref"] != nil {
			ref := strings.TrimPrefix(n["$ref"].(string), "#/")
			next, ok := dig(root, strings.Split(ref, "/")...).(map[string]any)
			if !ok {
				return n
			}
			n = next
		}
		return n
	}
	node := root
	for i, seg := range path {
		node = resolve(node)
		if strings.HasPrefix(seg, "[") {
			items, ok := node["items"].(map[string]any)
			if !ok {
				if node["type"] == "array" {
					return nil // array of anything
				}
				return fmt.Errorf("%s is not an array", strings.Join(path[:i], "."))
			}
			node = items
			continue
		}
		props, _ := node["properties"].(map[string]any)
		next, ok := props[seg].(map[string]any)
		if !ok {
			if props == nil && node["additionalProperties"] != false && (node["type"] == nil || node["type"] == "object") {
				return nil
			}
			return fmt.Errorf("%s is not in values.schema.json", strings.Join(path[:i+1], "."))
		}
		node = next
	}
	node = resolve(node)
	var alts []any
	for _, k := range []string{"oneOf", "anyOf"} {
		if a, ok := node[k].([]any); ok {
			alts = append(alts, a...)
		}
	}
	if len(alts) == 0 {
		alts = []any{node}
	}
	for _, a := range alts {
		switch typ := resolve(a.(map[string]any))["type"].(type) {
		case nil:
			return nil
		case string:
			if typ == "string" {
				return nil
			}
		case []any:
			if slices.Contains(typ, any("string")) {
				return nil
			}
		}
	}
	return fmt.Errorf("%s does not accept a string", strings.Join(path, "."))
}

func TestAzureSettingsAreChartValues(t *testing.T) {
	schema := readJSONFile(t, filepath.Join(chartDir, "values.schema.json"))
	plain, protected := configurationSettings(t, armTemplate(t))
	for _, settings := range []map[string]any{plain, protected} {
		for key, v := range settings {
			if _, ok := v.(string); !ok {
				t.Errorf("setting %s = %v: configuration settings are strings", key, v)
			}
			if strings.HasPrefix(key, "global.azure.") {
				t.Errorf("setting %s: Azure itself fills global.azure.*", key)
			}
			if err := schemaAccepts(schema, splitValuePath(key)); err != nil {
				t.Errorf("setting %s: %v", key, err)
			}
		}
	}
	for key := range protected {
		if plain[key] != nil {
			t.Errorf("setting %s is both plain and protected", key)
		}
	}
	if err := schemaAccepts(schema, splitValuePath("no.such.value")); err == nil {
		t.Error("schemaAccepts accepted an undeclared path")
	}
	if !slices.Equal(splitValuePath(`a.b\.c[2].d`), []string{"a", "b.c", "[2]", "d"}) {
		t.Errorf("splitValuePath = %q", splitValuePath(`a.b\.c[2].d`))
	}
}

// evalARM evaluates the few template functions the configuration settings
// use (parameters, string, base64, concat) against params. A string that is
// not an expression is a literal.
func evalARM(s string, params map[string]any) (any, error) {
	if !strings.HasPrefix(s, "[") || strings.HasPrefix(s, "[[") {
		return strings.Replace(s, "[[", "[", 1), nil
	}
	p := &armParser{s: s[1 : len(s)-1], params: params}
	v, err := p.expr()
	if err == nil && p.i != len(p.s) {
		err = fmt.Errorf("trailing %q", p.s[p.i:])
	}
	return v, err
}

type armParser struct {
	s      string
	i      int
	params map[string]any
}

func (p *armParser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *armParser) expr() (any, error) {
	p.skip()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	if p.s[p.i] == '\'' {
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			if p.s[p.i] == '\'' {
				if p.i+1 < len(p.s) && p.s[p.i+1] == '\'' {
					b.WriteByte('\'')
					p.i++
					continue
				}
				p.i++
				return b.String(), nil
			}
			b.WriteByte(p.s[p.i])
		}
		return nil, errors.New("unterminated string")
	}
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	word := p.s[start:p.i]
	if n, err := strconv.Atoi(word); err == nil {
		return n, nil
	}
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("expected ( after %q", word)
	}
	p.i++
	var args []any
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ')' {
			p.i++
			break
		}
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		}
	}
	switch word {
	case "parameters":
		v, ok := p.params[fmt.Sprint(args[0])]
		if !ok {
			return nil, fmt.Errorf("no value for parameters('%v')", args[0])
		}
		return v, nil
	case "string":
		return fmt.Sprint(args[0]), nil
	case "base64":
		return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(args[0]))), nil
	case "replace":
		if len(args) != 3 {
			return nil, errors.New("replace takes 3 arguments")
		}
		return strings.ReplaceAll(fmt.Sprint(args[0]), fmt.Sprint(args[1]), fmt.Sprint(args[2])), nil
	case "concat":
		var b strings.Builder
		for _, a := range args {
			b.WriteString(fmt.Sprint(a))
		}
		return b.String(), nil
	}
	return nil, fmt.Errorf("function %s is not supported by this test's evaluator", word)
}

func TestAzureEvalARM(t *testing.T) {
	params := map[string]any{"n": 3, "s": "a'b"}
	for expr, want := range map[string]string{
		"plain":                               "plain",
		"[string(parameters('n'))]":           "3",
		"[concat('0', parameters('s'), 'x')]": "0a'bx",
		"[base64(parameters('s'))]":           "YSdi",
		"[concat('it''s', string(12))]":       "it's12",
		"[[not an expression]":                "[not an expression]",
		"[concat( 'a' , parameters( 'n' ) )]": "a3",
		`[replace('a,b,c', ',', '\,')]`:       `a\,b\,c`,
	} {
		got, err := evalARM(expr, params)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("evalARM(%q) = %v, %v; want %q", expr, got, err, want)
		}
	}
	for _, bad := range []string{"[parameters('missing')]", "[concat('a'", "[uniqueString('x')]"} {
		if _, err := evalARM(bad, params); err == nil {
			t.Errorf("evalARM(%q): no error", bad)
		}
	}
}

// azureInjected are the values Azure adds for a Marketplace Kubernetes app.
var azureInjected = []string{
	"global.azure.marketplace.planId=socketx-standard",
	"global.azure.identity.clientId=00000000-0000-0000-0000-000000000002",
	"global.azure.extension.resourceId=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/providers/Microsoft.KubernetesConfiguration/extensions/socketx",
}

// TestAzureSettingsRender turns portal choices into configuration settings
// through the ARM template's own expressions and renders the chart with
// them, both as Helm --set (numbers and booleans typed) and --set-string.
func TestAzureSettingsRender(t *testing.T) {
	helm := helmBinary(t)
	plain, protected := configurationSettings(t, armTemplate(t))
	cases := []struct {
		name   string
		params map[string]any
	}{
		{"portal defaults", map[string]any{
			"domainMap": exampleDomainMap, "replicaCount": 2, "logLevel": "info", "serviceType": "ClusterIP",
			"servicePort": 8080, "billingStrategy": "request_based", "mteKyberStrength": "512",
			"mteCompanyName": "", "mteLicenseKey": "", "mteServerKeys": "",
		}},
		{"every choice changed", map[string]any{
			"domainMap": `{"*":{"upstream":"wss://b.example.com","allowedOrigins":["https://*.example.com"]}}`, "replicaCount": 10,
			"logLevel": "debug", "serviceType": "LoadBalancer", "servicePort": 443, "billingStrategy": "eclypses_no_billing",
			"mteKyberStrength": "0", "mteCompanyName": "Example Corp", "mteLicenseKey": "k3y+/0123=",
			"mteServerKeys": testServerKey(1) + "," + testServerKey(2), // rotating: two keys
		}},
		{"one replica, kyber 1024", map[string]any{
			"domainMap": exampleDomainMap, "replicaCount": 1, "logLevel": "error", "serviceType": "NodePort",
			"servicePort": 30080, "billingStrategy": "request_based", "mteKyberStrength": "1024",
			"mteCompanyName": "Acme 7", "mteLicenseKey": "abc", "mteServerKeys": testServerKey(3),
		}},
	}
	for _, tc := range cases {
		settings := map[string]string{}
		for _, m := range []map[string]any{plain, protected} {
			for k, expr := range m {
				v, err := evalARM(expr.(string), tc.params)
				if err != nil {
					t.Fatalf("%s: setting %s = %v: %v", tc.name, k, expr, err)
				}
				settings[k] = fmt.Sprint(v)
			}
		}
		keys := make([]string, 0, len(settings))
		for k := range settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, flag := range []string{"--set", "--set-string"} {
			t.Run(tc.name+" "+flag, func(t *testing.T) {
				var args []string
				for _, kv := range azureInjected {
					args = append(args, "--set", kv)
				}
				for _, k := range keys {
					args = append(args, flag, k+"="+settings[k])
				}
				docs := render(t, helm, args...)
				checkAzureRender(t, docs, tc.params)
			})
		}
	}
}

func checkAzureRender(t *testing.T, docs map[string]map[string]any, p map[string]any) {
	t.Helper()
	dep := docs["Deployment/rel-socketx"]
	if dep == nil {
		t.Fatal("no Deployment")
	}
	if got := dig(dep, "spec", "replicas"); got != p["replicaCount"] {
		t.Errorf("replicas = %v, want %v", got, p["replicaCount"])
	}
	_, hasPDB := docs["PodDisruptionBudget/rel-socketx"]
	if want := p["replicaCount"].(int) > 1; hasPDB != want {
		t.Errorf("PodDisruptionBudget rendered = %v with %v replicas", hasPDB, p["replicaCount"])
	}
	c := dig(dep, "spec", "template", "spec", "containers", "0")
	seen := map[string]bool{}
	for _, e := range dig(c, "env").([]any) {
		name := dig(e, "name").(string)
		if seen[name] {
			t.Errorf("env %s set twice", name)
		}
		seen[name] = true
		if v := dig(e, "value"); v != nil {
			if _, isStr := v.(string); !isStr {
				t.Errorf("env %s = %v (%T): Kubernetes accepts only string values", name, v, v)
			}
		}
	}
	env := envMap(c)
	want := map[string]string{
		"LOG_LEVEL":        p["logLevel"].(string),
		"BILLING_STRATEGY": p["billingStrategy"].(string),
		"BILLING_PROVIDER": "azure",
		"BILLING_PRODUCT":  "socketx",
		"AZURE_PLAN_ID":    "socketx-standard",
		"MTE_COMPANY_NAME": p["mteCompanyName"].(string),
		"MTE_LICENSE_KEY":  p["mteLicenseKey"].(string),
		"MTE_SERVER_KEYS":  p["mteServerKeys"].(string),
	}
	for k, w := range want {
		if env[k] != w {
			t.Errorf("env %s = %q, want %q", k, env[k], w)
		}
	}
	// The proxy loads every server key of the portal value, commas and all.
	cfg, err := config.Load(func(k string) (string, bool) {
		switch k {
		case "DOMAIN_MAP":
			return exampleDomainMap, true
		case "MTE_SERVER_KEYS":
			return env[k], true
		}
		return "", false
	})
	wantKeys := len(strings.FieldsFunc(p["mteServerKeys"].(string), func(r rune) bool { return r == ',' }))
	if err != nil || len(cfg.ServerKeys) != wantKeys {
		t.Errorf("MTE_SERVER_KEYS loads %d keys (%v), want %d", len(cfg.ServerKeys), err, wantKeys)
	}
	// The proxy reads MTE_KYBER_STRENGTH with strconv.Atoi.
	if n, err := strconv.Atoi(env["MTE_KYBER_STRENGTH"]); err != nil || strconv.Itoa(n) != p["mteKyberStrength"] {
		t.Errorf("env MTE_KYBER_STRENGTH = %q, the proxy would read %d (%v), want %s", env["MTE_KYBER_STRENGTH"], n, err, p["mteKyberStrength"])
	}
	var wantMap, gotMap any
	if err := json.Unmarshal([]byte(p["domainMap"].(string)), &wantMap); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(dig(docs["ConfigMap/rel-socketx-domain-map"], "data", "domain-map.json"))), &gotMap); err != nil {
		t.Fatalf("ConfigMap domain-map.json: %v", err)
	}
	if fmt.Sprint(gotMap) != fmt.Sprint(wantMap) {
		t.Errorf("DOMAIN_MAP = %v, want %v", gotMap, wantMap)
	}
	svc := docs["Service/rel-socketx"]
	if dig(svc, "spec", "type") != p["serviceType"] || dig(svc, "spec", "ports", "0", "port") != p["servicePort"] {
		t.Errorf("Service %v:%v, want %v:%v", dig(svc, "spec", "type"), dig(svc, "spec", "ports", "0", "port"), p["serviceType"], p["servicePort"])
	}
	if dig(dep, "spec", "template", "metadata", "labels", "azure-extensions-usage-release-identifier") != "rel" {
		t.Error("pod label azure-extensions-usage-release-identifier missing")
	}
}

// TestAzureDocsShellcheck runs shellcheck on the sh blocks of the Azure
// section of docs/DEPLOY.md.
func TestAzureDocsShellcheck(t *testing.T) {
	b, err := os.ReadFile("../docs/DEPLOY.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "## Azure Marketplace")
	if start < 0 {
		t.Fatal(`docs/DEPLOY.md has no "## Azure Marketplace" section`)
	}
	section := doc[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var blocks []string
	for rest := section; ; {
		i := strings.Index(rest, "```sh\n")
		if i < 0 {
			break
		}
		rest = rest[i+len("```sh\n"):]
		j := strings.Index(rest, "```")
		if j < 0 {
			t.Fatal("unterminated ```sh block")
		}
		blocks = append(blocks, rest[:j])
		rest = rest[j+3:]
	}
	if len(blocks) == 0 {
		t.Fatal("the Azure section has no sh block")
	}
	for _, f := range []string{"manifest.yaml", "mainTemplate.json", "createUiDefinition.json"} {
		if !strings.Contains(section, f) {
			t.Errorf("the Azure section does not mention %s", f)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed (apt-get install shellcheck)")
	}
	for i, blk := range blocks {
		cmd := exec.Command(sc, "-s", "bash", "-")
		cmd.Stdin = strings.NewReader(blk)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh block %d: shellcheck: %v\n%s", i+1, err, out)
		}
	}
}

// testServerKey is an MTE_SERVER_KEYS entry: the base64 of a 64-byte seed.
func testServerKey(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 64))
}
