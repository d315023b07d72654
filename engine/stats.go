package engine

import "sync/atomic"

// Stats are one loop's counters. The loop adds with atomics (uncontended:
// each loop has its own, on its own cache lines); readers sum all loops.
type Stats struct {
	_ [64]byte // keep neighbouring loops' counters off this cache line

	ConnectionsOpened atomic.Uint64 // TCP connections accepted
	ConnectionsClosed atomic.Uint64 // client connections fully closed
	Upgrades          atomic.Uint64 // 101 answered
	WebSocketsClosed  atomic.Uint64 // upgraded connections fully closed
	Paired            atomic.Uint64 // pairings completed
	UpstreamsReady    atomic.Uint64 // upstream handshakes completed
	Rejected          atomic.Uint64 // HTTP rejections and failed setups
	CipherReleases    atomic.Uint64 // idle sessions that dropped their AES-GCM objects
	MemoryHeld        atomic.Int64  // bytes counted against the memory budget now

	// Decoded counts successful proxyData decodes (client→upstream) and
	// Encoded successful proxyData encodes (upstream→client). Handshake
	// messages never count: these are what metering bills.
	Decoded      atomic.Uint64
	Encoded      atomic.Uint64
	DecodedBytes atomic.Uint64 // plaintext bytes
	EncodedBytes atomic.Uint64

	_ [64]byte
}

// StatsSnapshot is a point-in-time sum of all loops' counters.
type StatsSnapshot struct {
	ConnectionsOpened, ConnectionsClosed uint64
	Upgrades, Paired, UpstreamsReady     uint64
	WebSocketsClosed                     uint64
	Rejected                             uint64
	CipherReleases                       uint64
	MemoryHeld                           int64 // bytes held in partial messages, queued output and pipelined input
	Decoded, Encoded                     uint64
	DecodedBytes, EncodedBytes           uint64
	Active                               int64 // connections still open (any state)
	ActiveWebSockets                     int64 // upgraded connections still open
}

func (s *Server) statsSnapshot() StatsSnapshot {
	var t StatsSnapshot
	for _, l := range *s.loopList.Load() {
		st := &l.stats
		t.ConnectionsOpened += st.ConnectionsOpened.Load()
		t.ConnectionsClosed += st.ConnectionsClosed.Load()
		t.Upgrades += st.Upgrades.Load()
		t.WebSocketsClosed += st.WebSocketsClosed.Load()
		t.Paired += st.Paired.Load()
		t.UpstreamsReady += st.UpstreamsReady.Load()
		t.Rejected += st.Rejected.Load()
		t.CipherReleases += st.CipherReleases.Load()
		t.MemoryHeld += st.MemoryHeld.Load()
		t.Decoded += st.Decoded.Load()
		t.Encoded += st.Encoded.Load()
		t.DecodedBytes += st.DecodedBytes.Load()
		t.EncodedBytes += st.EncodedBytes.Load()
	}
	t.Active = int64(t.ConnectionsOpened) - int64(t.ConnectionsClosed)
	t.ActiveWebSockets = int64(t.Upgrades) - int64(t.WebSocketsClosed)
	return t
}

// activeWebSockets counts upgraded connections still open, over all loops.
func (s *Server) activeWebSockets() int64 {
	var n int64
	for _, l := range *s.loopList.Load() {
		n += int64(l.stats.Upgrades.Load()) - int64(l.stats.WebSocketsClosed.Load())
	}
	return n
}
