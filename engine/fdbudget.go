package engine

import (
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/upstream"
)

// The descriptor budget keeps the process below its descriptor limit
// (Config.MaxDescriptors) so that an accept never fails for lack of one.
//
// Every accepted connection holds 1 descriptor and reserves 1 more for its
// upstream leg, so a connection admitted can always dial. A dial in flight
// adds what it uses beyond that leg until it is enrolled or has failed
// (dialFDs). A new connection that finds the budget full evicts the oldest
// connection of its loop that has not finished pairing (states head to
// pathname, kept in an intrusive FIFO per loop); when there is none, the
// new connection is closed at once. Paired sessions are never evicted.

// fdsPerConn is what an accepted connection holds: its own descriptor and
// the one its upstream leg will need.
const fdsPerConn = 2

// fdBudget counts, process-wide, the descriptors held by connections.
type fdBudget struct {
	max   int64 // 0: count only, never refuse
	inUse atomic.Int64

	shed          atomic.Uint64 // new connections closed at once: budget full, nothing to evict
	evicted       atomic.Uint64 // unpaired connections closed to admit new ones
	acceptErrors  atomic.Uint64 // accept(2) failures the acceptor survived (EMFILE, ENFILE, ...)
	acceptDropped atomic.Uint64 // pending connections the acceptor closed unseen to relieve the backlog

	log limiter // Warn lines about shedding and accept errors
}

// tryAcquire counts n descriptors if they fit the budget.
func (b *fdBudget) tryAcquire(n int64) bool {
	if b.max <= 0 {
		b.inUse.Add(n)
		return true
	}
	for {
		cur := b.inUse.Load()
		if cur+n > b.max {
			return false
		}
		if b.inUse.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// acquire counts n descriptors whether or not they fit: a dial for a
// connection already admitted is never refused.
func (b *fdBudget) acquire(n int64) { b.inUse.Add(n) }

func (b *fdBudget) release(n int64) { b.inUse.Add(-n) }

// dialFDs is what an upstream dial to ep holds beyond the leg reserved at
// accept: transient while it dials and enrolls, steady once enrolled.
// ws://: gnet's Enroll dups the TCP socket and closes the original (1
// transient). wss://: the TLS bridge keeps the TCP socket, both ends of a
// socketpair (2 steady) and, while it wraps each end and while Enroll dups
// the engine's end, one duplicate at a time (3 transient).
func dialFDs(ep upstream.Endpoint) (transient, steady int64) {
	if ep.TLS {
		return 3, 2
	}
	return 1, 0
}

// budgetHold is a session's part in the budget: what it holds, and its
// place in its loop's FIFO of connections that have not finished pairing.
// Only the session's loop touches it.
type budgetHold struct {
	held       int64 // released when the session is removed
	upLeg      int64 // what the upstream leg holds once enrolled (dialFDs)
	prev, next *session
	queued     bool
}

// pendingFIFO is a loop's connections in states head to pathname, oldest
// first, linked through their budgetHold. Sessions that moved on are
// dropped lazily, when eviction reaches them or when they are removed.
type pendingFIFO struct{ head, tail *session }

func (q *pendingFIFO) push(sess *session) {
	h := &sess.budget
	h.prev, h.next, h.queued = q.tail, nil, true
	if q.tail != nil {
		q.tail.budget.next = sess
	} else {
		q.head = sess
	}
	q.tail = sess
}

func (q *pendingFIFO) remove(sess *session) {
	h := &sess.budget
	if !h.queued {
		return
	}
	if h.prev != nil {
		h.prev.budget.next = h.next
	} else {
		q.head = h.next
	}
	if h.next != nil {
		h.next.budget.prev = h.prev
	} else {
		q.tail = h.prev
	}
	h.prev, h.next, h.queued = nil, nil, false
}

// oldestUnpaired pops the oldest session still in head..pathname, dropping
// the ones that moved on; nil when there is none.
func (q *pendingFIFO) oldestUnpaired() *session {
	for q.head != nil {
		sess := q.head
		q.remove(sess)
		if sess.state <= statePathname {
			return sess
		}
	}
	return nil
}

// admit decides, in OnOpen, whether loop l takes a new TCP connection. It
// reports false when the connection must be closed at once.
func (s *Server) admit(l *loop) bool {
	b := &s.fds
	if b.tryAcquire(fdsPerConn) {
		return true
	}
	victim := l.pending.oldestUnpaired()
	if victim == nil {
		b.shed.Add(1)
		s.warnDescriptors("Connection refused: descriptor budget full", zap.Int64("descriptors_in_use", b.inUse.Load()),
			zap.Int64("descriptor_budget", b.max), zap.Uint64("refused_total", b.shed.Load()))
		return false
	}
	// The victim's descriptors pass to the newcomer: gnet closes the victim
	// on this loop's next pass over its task queue.
	b.evicted.Add(1)
	st := victim.state
	victim.evict()
	b.acquire(fdsPerConn)
	s.warnDescriptors("Unpaired connection evicted: descriptor budget full", zap.String("connection_id", connID(victim.id)),
		zap.Stringer("state", st), zap.String("client_addr", victim.remote.addr), zap.Uint64("evicted_total", b.evicted.Load()))
	return true
}

// admitted counts a new session in the budget and queues it as unpaired.
func (l *loop) admitted(sess *session) {
	sess.budget.held = fdsPerConn
	l.pending.push(sess)
}

// forget runs when a session is removed: it gives back what the session
// still holds, exactly once.
func (l *loop) forget(sess *session) {
	l.pending.remove(sess)
	l.srv.fds.release(sess.budget.held)
	sess.budget.held = 0
}

// evict closes an unpaired session at once to make room: no HTTP response
// before the upgrade, close 1013 after it. Its descriptors are released
// here; the removal that follows finds nothing held.
func (sess *session) evict() {
	l := sess.loop
	cause := causeEvictedHTTP
	if sess.client.ws {
		cause = causeEvicted
	}
	sess.decide(outcomeShedEvicted)
	sess.end(cause)
	sess.client.closeNow()
	l.srv.fds.release(sess.budget.held)
	sess.budget.held = 0
}

// dialStarted moves the session's upstream reservation to the dial and
// counts the dial's transient descriptors. It returns what the dial holds;
// the dial goroutine passes it to dialDone.
func (sess *session) dialStarted(ep upstream.Endpoint) (hold int64) {
	transient, steady := dialFDs(ep)
	sess.budget.held--
	sess.budget.upLeg = 1 + steady
	sess.server().fds.acquire(transient)
	return 1 + transient
}

// directDialStarted moves the session's upstream reservation to the leg a
// direct dial opens on the loop: its one socket, no transient descriptor.
// upstreamEnrolled settles it as for an enrolled conn.
func (sess *session) directDialStarted() {
	sess.budget.held--
	sess.budget.upLeg = 1
}

// dialDone runs on the dial goroutine once the upstream conn is enrolled
// (gnet has run OnOpen for it) or the dial has failed. An enrolled leg's own
// descriptors pass to the session (upstreamEnrolled); the rest is released.
func (s *Server) dialDone(ep upstream.Endpoint, hold int64, enrolled bool) {
	if enrolled {
		_, steady := dialFDs(ep)
		hold -= 1 + steady
	}
	s.fds.release(hold)
}

// upstreamEnrolled runs in OnOpen for an enrolled upstream conn: the
// session takes over the leg's descriptors, or they are released when the
// conn is closed at once because the client left.
func (sess *session) upstreamEnrolled(keep bool) {
	if keep {
		sess.budget.held += sess.budget.upLeg
	} else {
		sess.server().fds.release(sess.budget.upLeg)
	}
	sess.budget.upLeg = 0
}

// acceptFailed is gnet's AcceptErrorHandler: it runs on the acceptor for
// every accept(2) error the engine survives.
func (s *Server) acceptFailed(err error, dropped bool) {
	b := &s.fds
	b.acceptErrors.Add(1)
	if dropped {
		b.acceptDropped.Add(1)
	}
	s.warnDescriptors("Accept failed", zap.Error(err), zap.Bool("connection_dropped", dropped),
		zap.Uint64("accept_errors_total", b.acceptErrors.Load()), zap.Uint64("dropped_total", b.acceptDropped.Load()))
}

// warnDescriptors logs at Warn within the budget's own rate limit.
func (s *Server) warnDescriptors(msg string, fields ...zap.Field) {
	ce := s.siteLog.Check(zap.WarnLevel, msg)
	if ce == nil {
		return
	}
	ok, suppressed := s.fds.log.allow()
	if !ok {
		return
	}
	if suppressed > 0 {
		fields = append(fields, zap.Uint64("suppressed", suppressed))
	}
	ce.Write(fields...)
}

// DescriptorStats are the descriptor budget's gauges and counters.
type DescriptorStats struct {
	InUse         int64  // descriptors counted now
	Budget        int64  // Config.MaxDescriptors; 0 = no budget
	Refused       uint64 // new connections closed at once
	Evicted       uint64 // unpaired connections closed to admit new ones
	AcceptErrors  uint64 // accept(2) failures survived
	AcceptDropped uint64 // pending connections closed unseen by the acceptor
}

// Descriptors returns the descriptor budget's figures.
func (s *Server) Descriptors() DescriptorStats {
	b := &s.fds
	return DescriptorStats{
		InUse: b.inUse.Load(), Budget: b.max,
		Refused: b.shed.Load(), Evicted: b.evicted.Load(),
		AcceptErrors: b.acceptErrors.Load(), AcceptDropped: b.acceptDropped.Load(),
	}
}
