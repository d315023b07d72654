package main

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"testing"
)

// TestUsage: bad flags exit 2 with the reason on stderr.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-proxy", "ws://127.0.0.1:1", "-mode", "replay"}, "mitm: mode is strip or forge, not \"replay\"\n"},
		{[]string{"-proxy", "http://127.0.0.1:1"}, "mitm: proxy URL is not ws:// or wss://\n"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, bytes.NewReader(nil), &out, &errOut); code != 2 || errOut.String() != tc.want || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q, want stderr %q", tc.args, code, out.String(), errOut.String(), tc.want)
		}
	}
}

// TestURLLine: stdout line 1 is the relay's URL; closing stdin stops it
// with exit 0.
func TestURLLine(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"-proxy", "ws://127.0.0.1:1", "-kex", "xwing", "-mode", "forge"}, stdinR, outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil || !regexp.MustCompile(`^ws://127\.0\.0\.1:[0-9]+\n$`).MatchString(line) {
		t.Fatalf("line 1 %q, %v", line, err)
	}
	stdinW.Close()
	go io.Copy(io.Discard, outR)
	if c := <-code; c != 0 {
		t.Fatalf("exit %d", c)
	}
}
