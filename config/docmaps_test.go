package config

import (
	"os"
	"regexp"
	"testing"

	"github.com/socketx/socketx-server/routing"
)

// docMap is a DOMAIN_MAP as the documentation writes it on a command line:
// DOMAIN_MAP='…', DomainMap='…' (CloudFormation) or domainMap=… (Helm).
var docMap = regexp.MustCompile(`(?:DOMAIN_MAP|DomainMap|domainMap)='?(\{[^']*\})'`)

// TestDocumentedDomainMapsParse: every DOMAIN_MAP the documentation shows
// is one the proxy starts with, allowedOrigins included.
func TestDocumentedDomainMapsParse(t *testing.T) {
	found := 0
	for _, file := range []string{"../README.md", "../docs/DEPLOY.md", "../perf/README.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docMap.FindAllSubmatch(data, -1) {
			found++
			if _, err := routing.Parse(m[1]); err != nil {
				t.Errorf("%s: %s: %v", file, m[1], err)
			}
		}
	}
	if found < 10 {
		t.Fatalf("found %d DOMAIN_MAP examples, want at least the 10 documented", found)
	}
}
