package engine

import (
	"go.uber.org/zap"
)

// Memory budget. Each event loop may hold its share of
// Config.MemoryBudget (the budget divided by the number of loops) in the
// bytes a peer can make the proxy keep:
//
//   - message buffers (leg.frag): partial and fragmented messages, counted
//     at their capacity from the moment a frame header declares them;
//   - output queued on a leg because its peer reads slowly (gnet's
//     outbound buffer, sampled after every write and by the sweep);
//   - client bytes pipelined while the upstream is being connected;
//   - a pairRequest waiting for its loop's pairing task (pairqueue.go),
//     and client bytes that arrive meanwhile.
//
// Growth that would pass the share first closes the loop's largest holders
// with 1013 until it fits, the session asking included: one client holding
// a large partial message loses it; the others keep working. Sharing per
// loop keeps the accounting free of locks and atomics; connections are
// spread evenly over the loops.

// memHold is a session's part in the memory budget.
type memHold struct {
	held      int64 // bytes counted against the loop's share: the legs' frag and queued, and pipelined
	holder    int   // place in loop.holders, index+1; 0 = holds nothing
	pipelined int64 // client bytes waiting in gnet's inbound buffer while the upstream is connected, or while the pairRequest is queued
}

// reserve makes room for n more bytes held by sess. It reports false when
// sess itself had to be closed.
func (l *loop) reserve(sess *session, n int64) bool {
	if l.memLimit <= 0 || n <= 0 || l.memUsed+n <= l.memLimit {
		return true
	}
	for l.memUsed+n > l.memLimit {
		victim, size := sess, sess.mem.held+n
		for _, h := range l.holders {
			if h.mem.held > size {
				victim, size = h, h.mem.held
			}
		}
		victim.shedMemory(size)
		if victim == sess {
			return false
		}
	}
	return true
}

// overBudget closes the loop's largest holders until it is back within its
// share (after queued output grew).
func (l *loop) overBudget() {
	for l.memLimit > 0 && l.memUsed > l.memLimit && len(l.holders) > 0 {
		victim := l.holders[0]
		for _, h := range l.holders[1:] {
			if h.mem.held > victim.mem.held {
				victim = h
			}
		}
		victim.shedMemory(victim.mem.held)
	}
}

// memChanged recomputes what the session holds against the budget after
// one of its parts changed, and keeps the loop's holder list current.
func (sess *session) memChanged() {
	m := sess.client.fragCap + sess.up.fragCap + sess.client.queued + sess.up.queued + sess.mem.pipelined
	if sess.pairReq != nil {
		m += int64(cap(*sess.pairReq)) // the queued pairRequest (pairqueue.go)
	}
	l := sess.loop
	l.memUsed += m - sess.mem.held
	sess.mem.held = m
	switch {
	case m > 0 && sess.mem.holder == 0:
		l.holders = append(l.holders, sess)
		sess.mem.holder = len(l.holders)
	case m == 0 && sess.mem.holder != 0:
		i, last := sess.mem.holder-1, len(l.holders)-1
		l.holders[i] = l.holders[last]
		l.holders[i].mem.holder = i + 1
		l.holders[last] = nil
		l.holders = l.holders[:last]
		sess.mem.holder = 0
	}
	l.stats.MemoryHeld.Store(l.memUsed)
}

// noteQueued samples both legs' queued output into the budget and sheds
// the largest holders if the loop went over its share.
func (sess *session) noteQueued() {
	var c, u int64
	if sess.client.isOpen() {
		c = int64(sess.client.conn.OutboundBuffered())
	}
	if sess.up.isOpen() {
		u = int64(sess.up.conn.OutboundBuffered())
	}
	if c == sess.client.queued && u == sess.up.queued {
		return
	}
	sess.client.queued, sess.up.queued = c, u
	sess.memChanged()
	if sess.loop.memLimit > 0 && sess.loop.memUsed > sess.loop.memLimit {
		sess.loop.overBudget()
	}
}

// dropMem returns everything the session holds against the budget; called
// when it ends.
func (sess *session) dropMem() {
	sess.releaseFrag(&sess.client)
	sess.releaseFrag(&sess.up)
	sess.releasePairRequest()
	sess.client.queued, sess.up.queued, sess.mem.pipelined = 0, 0, 0
	sess.memChanged()
}

// shedMemory closes a session to keep the loop within its memory share:
// 1013 to the client (try again later), 1001 to the upstream. Output that
// its peer has not taken is dropped at once rather than lingering, so the
// memory is free now.
func (sess *session) shedMemory(held int64) {
	l := sess.loop
	if sess.state == stateClosed {
		sess.dropMem() // nothing left to close
		return
	}
	l.metrics.shed[shedMemory].Add(1)
	sess.decide(outcomeShedMemory)
	if ce := sess.server().logRejection("Memory budget exceeded: closing the largest holder"); ce != nil {
		ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("client_addr", sess.remote.addr),
			zap.Int64("held_bytes", held), zap.Int64("loop_budget_bytes", l.memLimit))
	}
	queued := [2]*leg{&sess.client, &sess.up}
	sess.end(causeMemoryBudget)
	for _, lg := range queued {
		if lg.conn != nil && lg.state != legGone && lg.conn.OutboundBuffered() > 0 {
			lg.closeNow()
		}
	}
}
