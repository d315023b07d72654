package demopage

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestHandlerServesFiles(t *testing.T) {
	h := Handler()
	for _, tc := range []struct{ path, file, contentType string }{
		{"/", "static/index.html", "text/html; charset=utf-8"},
		{"/index.html", "static/index.html", "text/html; charset=utf-8"},
		{"/demo.js", "static/demo.js", "text/javascript; charset=utf-8"},
		{"/demo.css", "static/demo.css", "text/css; charset=utf-8"},
		{"/socketx.js", "static/socketx.js", "text/javascript; charset=utf-8"},
		{"/favicon.ico", "static/favicon.ico", "image/x-icon"},
	} {
		resp := get(t, h, http.MethodGet, tc.path)
		body, _ := io.ReadAll(resp.Body)
		want, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || string(body) != string(want) {
			t.Errorf("GET %s: status %d, %d bytes; want 200 and the %d bytes of %s", tc.path, resp.StatusCode, len(body), len(want), tc.file)
		}
		for k, v := range map[string]string{
			"Content-Type":           tc.contentType,
			"Cache-Control":          "no-cache",
			"X-Content-Type-Options": "nosniff",
			"Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; " +
				"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, k, got, v)
			}
		}
	}
}

func TestHandlerHead(t *testing.T) {
	resp := get(t, Handler(), http.MethodHead, "/socketx.js")
	body, _ := io.ReadAll(resp.Body)
	want, _ := os.ReadFile("static/socketx.js")
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(want)) {
		t.Fatalf("HEAD: status %d, body %d bytes, Content-Length %d; want 200, 0, %d", resp.StatusCode, len(body), resp.ContentLength, len(want))
	}
}

func TestHandlerRejects(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/missing.js", http.StatusNotFound, ""},
		{http.MethodGet, "/static/index.html", http.StatusNotFound, ""},
		{http.MethodGet, "/../handler.go", http.StatusNotFound, ""},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/socketx.js", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/nothing", http.StatusNotFound, ""},
	} {
		resp := get(t, h, tc.method, tc.path)
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: status %d Allow %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
		}
	}
}

// /favicon.ico is an ICO holding one 32×32 PNG, and the page links it, so a
// browser asking for the icon gets 200 instead of 404.
func TestHandlerFavicon(t *testing.T) {
	resp := get(t, Handler(), http.MethodGet, "/favicon.ico")
	ico, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("GET /favicon.ico: status %d, Content-Type %q; want 200 image/x-icon", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// ICONDIR: reserved 0, type 1 (icon), 1 image; ICONDIRENTRY: 32×32, 32 bpp,
	// the image's size and offset (22, right after the entry).
	if len(ico) < 22 || !bytes.Equal(ico[:6], []byte{0, 0, 1, 0, 1, 0}) || ico[6] != 32 || ico[7] != 32 ||
		binary.LittleEndian.Uint16(ico[12:]) != 32 ||
		int(binary.LittleEndian.Uint32(ico[14:])) != len(ico)-22 || binary.LittleEndian.Uint32(ico[18:]) != 22 {
		t.Fatalf("favicon.ico header % x is not one 32×32 32-bpp image at offset 22 of %d bytes", ico[:min(len(ico), 22)], len(ico))
	}
	img, err := png.Decode(bytes.NewReader(ico[22:]))
	if err != nil {
		t.Fatalf("favicon.ico image: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
		t.Fatalf("favicon.ico image is %v, want 32×32", b)
	}
	page, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `<link rel="icon" href="favicon.ico" type="image/x-icon">`) {
		t.Error("index.html does not link favicon.ico")
	}
}

// The page loads only same-origin files that the handler serves.
func TestPageReferencesServedFiles(t *testing.T) {
	page, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile("static/demo.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{`href="demo.css"`, `src="demo.js"`} {
		if !strings.Contains(string(page), ref) {
			t.Errorf("index.html lacks %s", ref)
		}
	}
	if !strings.Contains(string(demo), `from './socketx.js'`) {
		t.Error("demo.js does not import ./socketx.js")
	}
	for _, s := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(string(page), s) {
			t.Errorf("index.html references an external asset (%q)", s)
		}
	}
}

// After pairing the page shows the key exchange that ran and whether the
// server was authenticated, with which key ID; a pin comes from ?serverKey=
// and goes to the SDK's serverKeys option (issue 15).
func TestPageShowsKeyExchangeAndServerAuth(t *testing.T) {
	h := Handler()
	read := func(path string) string {
		t.Helper()
		resp := get(t, h, http.MethodGet, path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		return string(body)
	}
	page, demo, sdk := read("/"), read("/demo.js"), read("/socketx.js")
	for _, want := range []string{
		`<dt>Key exchange</dt><dd id="kex">`,
		`<dt>Server authentication</dt><dd id="server-auth">`,
		`<option value="xwing">X-Wing (ML-KEM-768 + X25519)</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, want := range []string{
		`params.get('serverKey')`,
		`options.serverKeys = [serverKey]`,
		`$('kex').textContent = s.keyExchange`,
		`$('server-auth').textContent = serverAuth(s)`,
		"`authenticated, key ID ${s.serverKeyId}`",
		`const NO_PIN = 'not authenticated (no pin)'`,
		`'xwing'`,
	} {
		if !strings.Contains(demo, want) {
			t.Errorf("demo.js lacks %s", want)
		}
	}
	// The bundle the page imports has the properties and option it uses.
	for _, want := range []string{"serverKeyId", "serverKeys", "keyExchange", `"xwing"`} {
		if !strings.Contains(sdk, want) {
			t.Errorf("socketx.js lacks %s", want)
		}
	}
}

// Errors and contents wrap instead of being cut: the useful part of an
// error is often at its end (the e2e test checks the rendered page).
func TestPageCutsNoText(t *testing.T) {
	css, err := os.ReadFile("static/demo.css")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(css), "ellipsis") {
		t.Error("demo.css cuts text with an ellipsis")
	}
	for _, want := range []string{"td.content { max-width: 520px; white-space: pre-wrap; overflow-wrap: anywhere; }", "@media (max-width: 640px)"} {
		if !strings.Contains(string(css), want) {
			t.Errorf("demo.css lacks %s", want)
		}
	}
}
