package main

import (
	"os"
	"regexp"
	"testing"
)

// TestREADMEExampleIsThisProgram keeps the README's ten-line Go example
// compiling: it must be exactly this file's program.
func TestREADMEExampleIsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no Go example")
	}
	prog, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(m[1]) != string(prog) {
		t.Fatalf("README's Go example differs from examples/readme/main.go:\n%s", m[1])
	}
}
