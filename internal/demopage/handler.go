package demopage

import (
	"bytes"
	"embed"
	"net/http"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file and its Content-Type.
type asset struct {
	body        []byte
	contentType string
}

// assetTypes maps request paths to the embedded files.
var assetTypes = map[string]struct{ file, contentType string }{
	"/":           {"static/index.html", "text/html; charset=utf-8"},
	"/index.html": {"static/index.html", "text/html; charset=utf-8"},
	"/demo.js":    {"static/demo.js", "text/javascript; charset=utf-8"},
	"/demo.css":   {"static/demo.css", "text/css; charset=utf-8"},
	"/socketx.js": {"static/socketx.js", "text/javascript; charset=utf-8"},
	// A 32×32 PNG in an ICO container; index.html links it, and browsers
	// that do not read the link ask for /favicon.ico anyway.
	"/favicon.ico": {"static/favicon.ico", "image/x-icon"},
}

// contentSecurityPolicy allows only this origin's files and WebSocket
// connections to any proxy (the proxy URL is a page parameter).
const contentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler returns the demo page handler: GET and HEAD of /, /index.html,
// /demo.js, /demo.css, /socketx.js and /favicon.ico; 404 for other paths
// and 405 for other methods. It is safe for concurrent use.
func Handler() http.Handler {
	files := make(map[string]asset, len(assetTypes))
	for path, a := range assetTypes {
		body, err := static.ReadFile(a.file)
		if err != nil { // the embed directive guarantees the files
			panic("demopage: missing embedded file " + a.file)
		}
		files[path] = asset{body: body, contentType: a.contentType}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
