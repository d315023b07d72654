package engine

import (
	"github.com/panjf2000/gnet/v2"
)

// Pairing queue. A pairRequest costs the proxy one key exchange (two
// ML-KEM-768 encapsulations, ≈ 70–85 µs of CPU), some fifty times what
// relaying a message costs (perf/README.md). Run inline on the read that brought
// it, a wake-up that carries many pairRequests (a reconnect storm) would
// hold every relayed frame of the loop behind all of them. So the read
// only parks the request: it copies the message into a pooled buffer
// counted against the memory budget (gnet's inbound bytes are discarded
// after the read), stops reading the client (a client cannot send anything
// useful before the pairResponse; what it sends waits in gnet's inbound
// buffer, bounded like pipelined input) and queues the session on its
// loop's FIFO. A task on the loop (EventLoop.Execute) answers at most
// pairBatch queued requests, oldest first, then queues itself again if
// requests remain: a task queued by a task runs in the loop's next pass,
// after the I/O events ready by then (third_party/gnet/PATCHES.md), so
// every batch of pairings is followed by a pass over the ready relay I/O.
//
// A session that ends while queued (its client closed, its setup deadline
// passed, the memory budget shed it, the drain closed it) keeps its slot
// until the task reaches it and skips it; its buffer is released when it
// ends. The FIFO is a ring reused for the loop's life: queuing allocates
// nothing once it has grown to the largest backlog seen.

// pairBatch is how many pairings one run of the task answers before it
// lets the loop's I/O run.
const pairBatch = 2

// pairFIFO is a loop's queue of sessions whose pairRequest waits.
type pairFIFO struct {
	ring      []*session
	head, n   int
	scheduled bool // the task is queued on the loop
	run       gnet.RunnableFunc
	hook      func(*session) // tests: runs before each queued pairing is answered
}

func (q *pairFIFO) push(sess *session) {
	if q.n == len(q.ring) {
		grown := make([]*session, max(16, 2*len(q.ring)))
		for i := 0; i < q.n; i++ {
			grown[i] = q.ring[(q.head+i)%len(q.ring)]
		}
		q.ring, q.head = grown, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = sess
	q.n++
}

func (q *pairFIFO) pop() *session {
	sess := q.ring[q.head]
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return sess
}

// parkPairRequest queues the session's pairRequest (the payload of action
// 2) for the loop's pairing task. It reports
// false when the session ended (the memory budget shed it).
func (sess *session) parkPairRequest(msg []byte) bool {
	l := sess.loop
	size := fragCap(len(msg), 0, maxHandshakeMessage)
	if !l.reserve(sess, int64(size)) {
		return false
	}
	buf := getBuf(size)
	*buf = append(*buf, msg...)
	sess.pairReq = buf
	sess.memChanged()
	l.pairs.push(sess)
	l.schedulePairings()
	return true
}

// releasePairRequest returns the parked request's buffer.
func (sess *session) releasePairRequest() {
	if sess.pairReq == nil {
		return
	}
	putBuf(sess.pairReq)
	sess.pairReq = nil
}

// pairQueued reports whether the session's pairRequest waits in its
// loop's FIFO.
func (sess *session) pairQueued() bool { return sess.pairReq != nil }

// schedulePairings queues the pairing task on the loop unless it is
// queued already.
func (l *loop) schedulePairings() {
	if l.pairs.scheduled {
		return
	}
	l.pairs.scheduled = true
	if err := l.el.Execute(l.srv.ctx, l.pairs.run); err != nil {
		// The engine is shutting down: it closes every connection.
		l.pairs.scheduled = false
	}
}

// runPairings answers up to pairBatch queued pairRequests, skipping
// sessions that ended while queued, and queues itself again if requests
// remain.
func (l *loop) runPairings() {
	l.pairs.scheduled = false
	for done := 0; done < pairBatch && l.pairs.n > 0; {
		sess := l.pairs.pop()
		if sess.state != statePair || !sess.pairQueued() {
			continue // ended while queued
		}
		if l.pairs.hook != nil {
			l.pairs.hook(sess)
		}
		sess.pair()
		done++
	}
	if l.pairs.n > 0 {
		l.schedulePairings()
	}
}
