// Package wsecho is a WebSocket echo upstream for load tests: a gnet event
// handler (one event loop per core, no goroutine per connection) that parses
// the upgrade request and the frames in place with the project's codec
// package and echoes every text, binary and continuation frame back
// unchanged (same opcode, same FIN bit, so fragmentation is kept), answers
// pings with pongs and echoes close frames.
//
// It exists so that a benchmark measures the proxy in front of it, not the
// upstream: per read it costs one parse pass and one write(2) for every frame
// that read produced, and it allocates nothing per message.
//
// A request that is not a WebSocket upgrade gets "200 ok" (a health check) and
// the connection is closed.
package wsecho
