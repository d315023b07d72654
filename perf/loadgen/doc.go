// Package loadgen is the load generator behind perf/bench: it opens many
// WebSocket connections to a SocketX proxy (through the Go SDK, package
// client) or to a plain WebSocket proxy or echo server (its own minimal
// client), then either echoes messages through them with a fixed window in
// flight per connection, or holds them idle.
//
// It measures connection setup (TCP connect + WebSocket upgrade + for SocketX
// the pairing and the proxy's upstream dial and upgrade, i.e. until action 5),
// round-trip time per message, messages and bytes per second, and counts
// errors by kind. Histograms are log-linear (about 3 % resolution) and merge
// exactly, so a run spread over several worker processes (RunWorkers, which
// re-executes the current binary) reports the same percentiles as one process
// would.
//
// Concurrency: Run starts one goroutine per connection (this is the load
// generator, not the proxy); counters are atomics read by the progress
// reporter once per second.
package loadgen
