// Package gnetaddr reads the address a running gnet engine listens on.
//
// gnet.Engine does not expose its listener's address, which a server bound
// to port 0 (tests, benchmarks) needs to report. Listener asks the kernel
// (getsockname) on a duplicate of the listening socket. Both the proxy
// (engine.Server) and the benchmark echo upstream (perf/wsecho) use it, so
// neither imports the other for it.
package gnetaddr
