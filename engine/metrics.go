package engine

import (
	"sync/atomic"
)

// histogram is a fixed-bucket histogram updated with atomic adds, one per
// loop so that no two cores write the same cache line. Values are integers
// in the metric's native unit (bytes or nanoseconds); bounds are upper
// bounds, inclusive, with an implicit +Inf bucket at the end.
type histogram struct {
	bounds []uint64
	counts [maxBuckets]atomic.Uint64
	sum    atomic.Uint64
}

const maxBuckets = 16

func (h *histogram) observe(v uint64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// observeN records n observations of value v (a batch average).
func (h *histogram) observeN(v, n uint64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(n)
	h.sum.Add(v * n)
}

// HistogramSnapshot is a histogram summed over loops. Counts[i] is the
// number of observations in bucket i (not cumulative); the last entry is
// the +Inf bucket.
type HistogramSnapshot struct {
	Bounds []uint64
	Counts []uint64
	Sum    uint64
}

func (h *histogram) addTo(s *HistogramSnapshot) {
	if s.Bounds == nil {
		s.Bounds = h.bounds
		s.Counts = make([]uint64, len(h.bounds)+1)
	}
	for i := range s.Counts {
		s.Counts[i] += h.counts[i].Load()
	}
	s.Sum += h.sum.Load()
}

// Bucket bounds. Durations are in nanoseconds, sizes in bytes.
var (
	sizeBounds    = []uint64{0, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}
	codecBounds   = []uint64{250, 500, 1e3, 2.5e3, 5e3, 10e3, 25e3, 50e3, 100e3, 1e6}
	setupBounds   = []uint64{1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6, 250e6, 500e6, 1e9, 2.5e9, 5e9, 10e9}
	sessionBounds = []uint64{1e9, 10e9, 60e9, 300e9, 900e9, 3600e9, 4 * 3600e9, 24 * 3600e9}
)

// Reasons for rejected or failed connection setups: a closed set, so it
// can be a metric label.
type reason uint8

const (
	reasonBadRequest reason = iota
	reasonUnknownHost
	reasonOrigin
	reasonDraining
	reasonTooMany
	reasonHeadTimeout
	reasonPairing
	reasonPairTimeout
	reasonPathname
	reasonUpstream
	reasonUpstreamTimeout
	reasonUnknownServerKey // a pairing failure: serverKeyId names none of the server keys
	reasonBadServerAuth    // a pairing failure: malformed serverKeyId or serverSecret
	reasonNotSocketX       // the first message is not a SocketX hello: a plain WebSocket client, most likely
	numReasons
)

var reasonNames = [numReasons]string{
	"bad_request", "unknown_host", "origin", "draining", "too_many_connections", "head_timeout",
	"pairing", "pairing_timeout", "pathname", "upstream", "upstream_timeout",
	"unknown_server_key", "malformed_server_auth", "not_socketx",
}

// String is the metric label of the reason.
func (r reason) String() string { return reasonNames[r] }

// Budgets under which the engine closes connections (shedding): a closed
// set, so it can be a metric label.
type shedReason uint8

const (
	shedMemory shedReason = iota // the largest holder, to stay within MemoryBudget
	numShedReasons
)

var shedNames = [numShedReasons]string{"memory"}

// closeClass buckets close codes into a bounded label set.
func closeClass(code uint16) int {
	switch {
	case code == 0:
		return 0 // no close frame (TCP dropped)
	case code >= 1000 && code <= 1015:
		return int(code-1000) + 1
	case code >= 3000 && code < 4000:
		return 17
	case code >= 4000 && code < 5000:
		return 18
	}
	return 19
}

const numCloseClasses = 20

// closeClassLabel is the metric label of a closeClass index.
func closeClassLabel(i int) string {
	switch {
	case i == 0:
		return "none"
	case i <= 16:
		return itoa3(1000 + i - 1)
	case i == 17:
		return "3xxx"
	case i == 18:
		return "4xxx"
	}
	return "other"
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/1000), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

// loopMetrics are the histograms and labelled counters of one loop.
type loopMetrics struct {
	payloadUp, payloadDown histogram // plaintext sizes
	decode, encode         histogram // per-message MTE time (batch average)
	pairing                histogram // upgrade → paired
	dial                   histogram // dial start → upstream ready
	session                histogram // upgrade → close

	rejected   [numReasons]atomic.Uint64
	closeCodes [numCloseClasses]atomic.Uint64 // by code sent to the client
	highWater  atomic.Uint64                  // legs closed for exceeding the queue bound
	pairedAuth atomic.Uint64                  // pairings authenticated with a server key
	shed       [numShedReasons]atomic.Uint64  // connections closed to stay within a budget
	outcomes   [numOutcomes]atomic.Uint64     // removed sessions by outcome (outcome.go)
	decodeNs   atomic.Uint64
	encodeNs   atomic.Uint64
}

func (m *loopMetrics) init() {
	m.payloadUp.bounds = sizeBounds
	m.payloadDown.bounds = sizeBounds
	m.decode.bounds = codecBounds
	m.encode.bounds = codecBounds
	m.pairing.bounds = setupBounds
	m.dial.bounds = setupBounds
	m.session.bounds = sessionBounds
}

// Metrics is a snapshot of everything the engine measures, summed over
// loops. Telemetry turns it into Prometheus metrics and EMF lines.
type Metrics struct {
	StatsSnapshot
	PayloadUp, PayloadDown HistogramSnapshot
	Decode, Encode         HistogramSnapshot
	Pairing, Dial, Session HistogramSnapshot
	Rejected               map[string]uint64
	CloseCodes             map[string]uint64
	HighWater              uint64
	PairedAuthenticated    uint64            // pairings authenticated with a server key (of Paired)
	Shed                   map[string]uint64 // connections closed to stay within a budget, by budget
	// Accepted counts every TCP connection accepted: the sessions
	// (ConnectionsOpened) plus those refused on arrival or dropped unseen
	// by the acceptor. Outcomes counts the ended ones by how they ended,
	// so Accepted = Σ Outcomes + Active (outcome.go).
	Accepted    uint64
	Outcomes    map[string]uint64
	Draining    bool // Drain or SetDraining(true) was called
	Routes      int  // DOMAIN_MAP keys in the routing table in use
	DecodeNanos uint64
	EncodeNanos uint64
	Descriptors DescriptorStats
}

// Metrics sums every loop's measurements. It allocates; call it from a
// scrape, not a loop.
func (s *Server) Metrics() Metrics {
	m := Metrics{StatsSnapshot: s.statsSnapshot(), Rejected: map[string]uint64{}, CloseCodes: map[string]uint64{},
		Shed: map[string]uint64{}, Outcomes: map[string]uint64{}, Descriptors: s.Descriptors(),
		Draining: s.draining.Load(), Routes: len(s.routes.Load().Routes())}
	m.Accepted = m.ConnectionsOpened + m.Descriptors.Refused + m.Descriptors.AcceptDropped
	for o := outcomeRelayed; o < numOutcomes; o++ {
		m.Outcomes[o.String()] = 0
	}
	m.Outcomes[OutcomeShedDescriptors] = m.Descriptors.Refused
	m.Outcomes[OutcomeShedAcceptError] = m.Descriptors.AcceptDropped
	for _, n := range shedNames {
		m.Shed[n] = 0
	}
	for i := range numReasons {
		m.Rejected[reason(i).String()] = 0
	}
	for _, l := range *s.loopList.Load() {
		lm := &l.metrics
		lm.payloadUp.addTo(&m.PayloadUp)
		lm.payloadDown.addTo(&m.PayloadDown)
		lm.decode.addTo(&m.Decode)
		lm.encode.addTo(&m.Encode)
		lm.pairing.addTo(&m.Pairing)
		lm.dial.addTo(&m.Dial)
		lm.session.addTo(&m.Session)
		for i := range lm.rejected {
			m.Rejected[reason(i).String()] += lm.rejected[i].Load()
		}
		for i := range lm.closeCodes {
			if n := lm.closeCodes[i].Load(); n > 0 {
				m.CloseCodes[closeClassLabel(i)] += n
			}
		}
		m.HighWater += lm.highWater.Load()
		m.PairedAuthenticated += lm.pairedAuth.Load()
		for o := range lm.outcomes {
			if n := lm.outcomes[o].Load(); n > 0 || o != int(outcomeOpen) {
				m.Outcomes[outcome(o).String()] += n
			}
		}
		for i := range lm.shed {
			m.Shed[shedNames[i]] += lm.shed[i].Load()
		}
		m.DecodeNanos += lm.decodeNs.Load()
		m.EncodeNanos += lm.encodeNs.Load()
	}
	return m
}
