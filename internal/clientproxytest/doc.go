// Package clientproxytest holds the tests of the Go SDK (package client)
// that run against the production proxy in-process (internal/enginetest)
// and the test upstreams (internal/testupstream): options, refused
// upgrades, reconnects across proxy restarts, server authentication and a
// man in the middle. They live in the server's module because the client
// module (client/go.mod) must not depend on it; the client's own tests,
// against a fake proxy, stay in client/.
package clientproxytest
