package engine

// Every connection the proxy accepts ends in exactly one outcome, counted
// once when the connection is removed, so that
//
//	accepted = Σ outcomes + connections still open
//
// holds at every scrape between loop updates (and exactly once the
// counters are quiet). A session's outcome is decided by the first of:
// a rejection (by reason), a shed (closed to stay within a budget), a
// plain HTTP answer; otherwise by how far the session got when it ended
// (outcomeOfState). Connections refused on arrival or dropped by the
// acceptor never become sessions: the descriptor budget counts them
// (DescriptorStats.Refused, AcceptDropped) and Metrics adds them to both
// sides.
type outcome uint8

const (
	outcomeOpen                outcome = iota // not decided yet
	outcomeRelayed                            // reached relaying, however it ended later (unless shed)
	outcomeHTTP                               // a plain HTTP request answered (health, readiness, echo, 404)
	outcomeClosedBeforeUpgrade                // the client left, or the engine stopped, before a complete request head
	outcomeClosedDuringPairing                // ended between the 101 and the pathname, not by a rejection
	outcomeClosedDuringDial                   // ended while the upstream was connecting, not by a rejection
	outcomeShedMemory                         // closed to stay within the memory budget
	outcomeShedEvicted                        // an unpaired connection evicted for a newcomer (descriptor budget)
	outcomeRejected                           // + reason: a rejection, by reason
	numOutcomes                = outcomeRejected + outcome(numReasons)
)

var outcomeNames = func() [numOutcomes]string {
	n := [numOutcomes]string{
		outcomeOpen: "open", outcomeRelayed: "relayed", outcomeHTTP: "http",
		outcomeClosedBeforeUpgrade: "closed_before_upgrade", outcomeClosedDuringPairing: "closed_during_pairing",
		outcomeClosedDuringDial: "closed_during_dial",
		outcomeShedMemory:       "shed_" + shedNames[shedMemory], outcomeShedEvicted: "shed_pending_evicted",
	}
	for r := range numReasons {
		n[outcomeRejected+outcome(r)] = "rejected_" + reason(r).String()
	}
	return n
}()

// Outcome labels of the connections that never became sessions.
const (
	OutcomeShedDescriptors = "shed_descriptors"  // refused on arrival: descriptor budget full, nothing to evict
	OutcomeShedAcceptError = "shed_accept_error" // closed unseen by the acceptor to relieve the backlog
)

// String is the metric label of the outcome.
func (o outcome) String() string { return outcomeNames[o] }

// rejected is the outcome of a rejection for reason r.
func rejected(r reason) outcome { return outcomeRejected + outcome(r) }

// decide records o as the session's outcome unless one is recorded: the
// first decision wins.
func (sess *session) decide(o outcome) {
	if sess.outcome == outcomeOpen {
		sess.outcome = o
	}
}

// outcomeOfState is the outcome of a session that ends in state st with
// no decision recorded.
func outcomeOfState(st state) outcome {
	switch {
	case st == stateHead:
		return outcomeClosedBeforeUpgrade
	case st <= statePathname:
		return outcomeClosedDuringPairing
	case st < stateRelay:
		return outcomeClosedDuringDial
	}
	return outcomeRelayed
}
