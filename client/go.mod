module github.com/socketx/socketx-server/client

go 1.24

require (
	github.com/gobwas/ws v1.4.0
	github.com/socketx/socketx-server/mte v0.1.0
)

require (
	github.com/cloudflare/circl v1.6.3 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	golang.org/x/crypto v0.30.0 // indirect
	golang.org/x/sys v0.28.0 // indirect
)

// The mte module of this repository; a module requiring client gets the
// tagged mte/v0.1.0 instead (replace applies only to the main module).
replace github.com/socketx/socketx-server/mte => ../mte
