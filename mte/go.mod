module github.com/socketx/socketx-server/mte

go 1.24

require (
	github.com/cloudflare/circl v1.6.3
	golang.org/x/sys v0.28.0
)

require golang.org/x/crypto v0.30.0 // indirect
