package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Map is a parsed DOMAIN_MAP. It is immutable and safe for concurrent use.
type Map struct {
	exact  map[string]*Route // normalised "host[:port]"
	wild   map[string]*Route // "*.suffix[:port]" keys, stored as "suffix[:port]"
	star   *Route
	routes []*Route // in DOMAIN_MAP order
}

// Routes returns every route in DOMAIN_MAP order. Do not modify the slice.
func (m *Map) Routes() []*Route { return m.routes }

// Parse parses and validates a DOMAIN_MAP document. Every problem found is
// reported, each as an *EntryError naming the key and field, joined with
// errors.Join; a document that is not a JSON object, or is empty, fails with
// ErrNotObject or ErrEmptyMap.
func Parse(data []byte) (*Map, error) {
	entries, err := members(data)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, ErrEmptyMap
	}
	m := &Map{
		exact: make(map[string]*Route),
		wild:  make(map[string]*Route),
	}
	var errs []error
	seen := make(map[string]string, len(entries)) // normalised key -> key as written
	for _, e := range entries {
		kind, norm, problem := parseKey(e.key)
		if problem != "" {
			errs = append(errs, &EntryError{Key: e.key, Problem: "invalid key: " + problem})
		} else if first, dup := seen[norm]; dup {
			errs = append(errs, &EntryError{Key: e.key, Problem: fmt.Sprintf("duplicate of key %q", first)})
			problem = "dup"
		} else {
			seen[norm] = e.key
		}
		r, entryErrs := parseEntry(e.key, e.raw)
		errs = append(errs, entryErrs...)
		if problem != "" || len(entryErrs) != 0 {
			continue
		}
		m.routes = append(m.routes, r)
		switch kind {
		case keyStar:
			m.star = r
		case keyWildcard:
			m.wild[norm] = r
		default:
			m.exact[norm] = r
		}
	}
	if len(errs) != 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

type member struct {
	key string
	raw json.RawMessage
}

// members splits a JSON object into its members in order. Duplicate names
// are kept (the caller reports them); anything but one object is an error.
func members(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("routing: DOMAIN_MAP is not valid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, ErrNotObject
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("routing: DOMAIN_MAP is not valid JSON: %w", err)
		}
		key, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("routing: DOMAIN_MAP is not valid JSON: %w", err)
		}
		out = append(out, member{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("routing: DOMAIN_MAP is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("routing: DOMAIN_MAP is not valid JSON: data after the object")
	}
	return out, nil
}

// errNoOrigins is the problem of a missing, null or empty allowedOrigins:
// such an entry would answer every upgrade 403, so it is refused, as the
// Helm chart refuses it.
const errNoOrigins = `want a non-empty list (without one every upgrade gets 403; ["*"] allows every origin and native clients, which send none)`

// parseEntry validates one DOMAIN_MAP value.
func parseEntry(key string, raw json.RawMessage) (*Route, []error) {
	fail := func(field, problem string) error {
		return &EntryError{Key: key, Field: field, Problem: problem}
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, []error{fail("", `must be an object {"upstream": ..., "allowedOrigins": [...]}`)}
	}
	fields, err := members(raw)
	if err != nil {
		return nil, []error{fail("", err.Error())}
	}
	var (
		errs       []error
		upRaw      json.RawMessage
		originsRaw json.RawMessage
		have       = map[string]bool{}
	)
	for _, f := range fields {
		if have[f.key] {
			errs = append(errs, fail(f.key, "duplicate field"))
			continue
		}
		have[f.key] = true
		switch f.key {
		case "upstream":
			upRaw = f.raw
		case "allowedOrigins":
			originsRaw = f.raw
		default:
			errs = append(errs, fail("", fmt.Sprintf("unknown field %q (want upstream, allowedOrigins)", f.key)))
		}
	}
	r := &Route{Key: key}
	var up string
	switch {
	case upRaw == nil:
		errs = append(errs, fail("upstream", "missing"))
	case json.Unmarshal(upRaw, &up) != nil || upRaw[0] != '"':
		errs = append(errs, fail("upstream", "must be a string"))
	default:
		u, problem := parseUpstream(up)
		if problem != "" {
			errs = append(errs, fail("upstream", problem))
		}
		r.Upstream = u
	}
	switch {
	case originsRaw == nil || string(originsRaw) == "null":
		errs = append(errs, fail("allowedOrigins", errNoOrigins))
	case json.Unmarshal(originsRaw, &r.AllowedOrigins) != nil || originsRaw[0] != '[':
		errs = append(errs, fail("allowedOrigins", "must be an array of strings"))
	case len(r.AllowedOrigins) == 0:
		errs = append(errs, fail("allowedOrigins", errNoOrigins))
	default:
		for i, o := range r.AllowedOrigins {
			if problem := r.addOrigin(o); problem != "" {
				errs = append(errs, fail(fmt.Sprintf("allowedOrigins[%d]", i), problem))
			}
		}
	}
	return r, errs
}

// parseUpstream validates an upstream base URL and lowercases its host.
func parseUpstream(s string) (*url.URL, string) {
	if strings.IndexByte(s, '#') >= 0 {
		return nil, "must not contain a fragment"
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, "not a valid URL: " + err.Error()
	}
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss":
		return nil, fmt.Sprintf("scheme %q not allowed (want ws or wss)", u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return nil, "must be an absolute URL with a host (ws://host[:port][/path])"
	case u.User != nil:
		return nil, "must not contain userinfo"
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasPrefix(u.Host, "[") {
		if !validIPv6(host) {
			return nil, fmt.Sprintf("invalid host %q", u.Host)
		}
	} else if p := validHostname(strings.ToLower(host)); p != "" {
		return nil, fmt.Sprintf("invalid host %q: %s", u.Host, p)
	}
	if port != "" && !validPort(port) {
		return nil, fmt.Sprintf("invalid port %q (want 1-65535)", port)
	}
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return nil, "empty port"
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if d := strings.ReplaceAll(strings.ToLower(seg), "%2e", "."); d == "." || d == ".." {
			return nil, "path must not contain dot segments"
		}
	}
	for i := 0; i < len(u.RawQuery); i++ {
		if c := u.RawQuery[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			return nil, "query holds a character that must be percent-encoded"
		}
	}
	u.Host = strings.ToLower(u.Host)
	if _, err := resolve(u, ""); err != nil {
		return nil, err.Error()
	}
	return u, ""
}
