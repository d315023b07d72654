package telemetry

import (
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/metering"
	"github.com/socketx/socketx-server/upstream"
)

// Sources are the snapshot functions the collector reads at scrape time.
// Any may be nil.
type Sources struct {
	Engine   func() engine.Metrics
	Upstream func() upstream.Stats
	Meter    func() metering.Stats
	Reloads  func() ReloadStats // DOMAIN_MAP_FILE reloads; nil when the map is not read from a file
	// Extra collectors (e.g. the meter's) are registered as they are.
	Extra []prometheus.Collector
}

// ReloadStats are the DOMAIN_MAP_FILE reloader's counters.
type ReloadStats struct {
	Succeeded, Failed uint64    // reloads applied; reloads refused (unreadable or invalid file)
	LastSuccess       time.Time // when the routes in use were loaded: start-up or the last reload applied
}

// BuildInfo labels socketx_build_info.
type BuildInfo struct {
	Version, MTEVersion string
	KyberStrength       int
}

// NewRegistry builds a registry with the SocketX collector plus the Go
// runtime and process collectors.
func NewRegistry(src Sources, info BuildInfo) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&collector{src: src, info: info})
	for _, c := range src.Extra {
		reg.MustRegister(c)
	}
	return reg
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("socketx_"+name, help, labels, nil)
}

var (
	dBuild        = desc("build_info", "Build and protocol of this process.", "version", "mte_version", "mte_kyber_strength")
	dActive       = desc("connections_active", "Upgraded (WebSocket) client connections open now.")
	dOpen         = desc("connections_open", "TCP client connections open now, including plain HTTP.")
	dAccepted     = desc("connections_accepted_total", "TCP client connections accepted, including those shed on arrival; equals the sum of connections_closed_total plus connections_open.")
	dUpgrades     = desc("upgrades_total", "WebSocket upgrades answered with 101.")
	dOutcomes     = desc("connections_closed_total", "Client connections ended, each counted once by outcome: relayed, http, rejected_<reason>, shed_<reason>, closed_before_upgrade, closed_during_pairing, closed_during_dial.", "outcome")
	dDraining     = desc("draining", "1 while the proxy drains (SIGTERM, ECS stop), else 0.")
	dRoutes       = desc("domain_map_routes", "DOMAIN_MAP keys in the routing table in use.")
	dReloads      = desc("domain_map_reloads_total", "DOMAIN_MAP_FILE reloads: applied (success) or refused, the previous routes kept (failure).", "result")
	dReloadOK     = desc("domain_map_last_reload_success_timestamp_seconds", "Unix time the routes in use were loaded: start-up or the last successful DOMAIN_MAP_FILE reload.")
	dRejections   = desc("rejections_total", "Requests and connection setups refused, by reason.", "reason")
	dPairings     = desc("pairings_total", "SocketX pairings completed.")
	dPairingsAuth = desc("pairings_authenticated_total", "SocketX pairings completed with server authentication (of pairings_total).")
	dPairingDur   = desc("pairing_duration_seconds", "Time from the 101 to a completed pairing.")
	dMTEOps       = desc("mte_operations_total", "Successful proxyData MTE operations (what metering bills).", "operation")
	dBytes        = desc("bytes_total", "Plaintext payload bytes relayed.", "direction")
	dMTEDur       = desc("mte_duration_seconds", "Relay time per message (MTE plus framing; the read batch's average).", "operation")
	dPayload      = desc("payload_size_bytes", "Plaintext message sizes.", "direction")
	dSession      = desc("session_duration_seconds", "WebSocket session length, upgrade to close.")
	dDial         = desc("upstream_dial_duration_seconds", "Time from the dial's start to the upstream's 101.")
	dDialsOK      = desc("upstream_dials_total", "Upstream dials that connected.")
	dDialErrors   = desc("upstream_dial_errors_total", "Upstream dials that failed, by reason.", "reason")
	dBridges      = desc("upstream_tls_bridges_open", "wss:// upstream connections open through the TLS bridge.")
	dCloseCodes   = desc("close_codes_total", "Close codes sent to clients.", "code")
	dHighWater    = desc("queue_high_water_total", "Connections closed because a peer let output queue past WS_MAX_QUEUED_BYTES.")
	dShed         = desc("connections_shed_total", "Connections closed to keep the process within a budget: the largest memory holders (memory), refused on arrival for lack of descriptors (descriptors), unpaired ones evicted for newcomers (pending_evicted), dropped by the acceptor unseen (accept_error).", "reason")
	dMemHeld      = desc("memory_budget_used_bytes", "Bytes held in partial messages, queued output and pipelined input (bounded by MEMORY_BUDGET).")
	dAcceptErrors = desc("accept_errors_total", "accept(2) failures survived (EMFILE, ENFILE, ENOBUFS, ENOMEM).")
	dFDsInUse     = desc("descriptors_in_use", "Descriptors the connections hold, as the descriptor budget counts them.")
	dFDBudget     = desc("descriptor_budget", "Descriptors connections may hold (DESCRIPTOR_BUDGET); 0 = no budget.")
	dMeterReports = desc("metering_reports_total", "Marketplace usage records by outcome.", "provider", "result")
	dMeterUnrep   = desc("metering_unreported_messages", "Counted messages not yet accepted by the marketplace.", "direction")
	dMeterLost    = desc("metering_lost_messages_total", "Messages in records the marketplace refused or that expired.", "direction")
	allDescs      = []*prometheus.Desc{dBuild, dActive, dOpen, dAccepted, dUpgrades, dOutcomes, dDraining, dRoutes, dReloads, dReloadOK, dRejections, dPairings, dPairingsAuth, dPairingDur, dMTEOps, dBytes, dMTEDur, dPayload, dSession, dDial, dDialsOK, dDialErrors, dBridges, dCloseCodes, dHighWater, dShed, dMemHeld, dAcceptErrors, dFDsInUse, dFDBudget, dMeterReports, dMeterUnrep, dMeterLost}
	nanosPerSecon = 1e9
)

type collector struct {
	src  Sources
	info BuildInfo
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(dBuild, prometheus.GaugeValue, 1, c.info.Version, c.info.MTEVersion, strconv.Itoa(c.info.KyberStrength))
	if c.src.Engine != nil {
		c.collectEngine(ch, c.src.Engine())
	}
	if c.src.Upstream != nil {
		st := c.src.Upstream()
		ch <- prometheus.MustNewConstMetric(dDialsOK, prometheus.CounterValue, float64(st.DialsOK))
		for _, r := range sortedKeys(st.DialsFailed) {
			ch <- prometheus.MustNewConstMetric(dDialErrors, prometheus.CounterValue, float64(st.DialsFailed[r]), r)
		}
		ch <- prometheus.MustNewConstMetric(dBridges, prometheus.GaugeValue, float64(st.BridgesOpen))
	}
	if c.src.Reloads != nil {
		st := c.src.Reloads()
		ch <- prometheus.MustNewConstMetric(dReloads, prometheus.CounterValue, float64(st.Succeeded), "success")
		ch <- prometheus.MustNewConstMetric(dReloads, prometheus.CounterValue, float64(st.Failed), "failure")
		ch <- prometheus.MustNewConstMetric(dReloadOK, prometheus.GaugeValue, float64(st.LastSuccess.UnixNano())/nanosPerSecon)
	}
	if c.src.Meter != nil {
		st := c.src.Meter()
		if st.Provider != "" {
			for _, r := range []struct {
				name string
				v    uint64
			}{{"accepted", st.Accepted}, {"duplicate", st.Duplicate}, {"rejected", st.Rejected}, {"expired", st.Expired}, {"failed", st.Failed}} {
				ch <- prometheus.MustNewConstMetric(dMeterReports, prometheus.CounterValue, float64(r.v), st.Provider, r.name)
			}
			ch <- prometheus.MustNewConstMetric(dMeterUnrep, prometheus.GaugeValue, float64(st.UnreportedEncoded), "encoded")
			ch <- prometheus.MustNewConstMetric(dMeterUnrep, prometheus.GaugeValue, float64(st.UnreportedDecoded), "decoded")
			ch <- prometheus.MustNewConstMetric(dMeterLost, prometheus.CounterValue, float64(st.LostEncoded), "encoded")
			ch <- prometheus.MustNewConstMetric(dMeterLost, prometheus.CounterValue, float64(st.LostDecoded), "decoded")
		}
	}
}

func (c *collector) collectEngine(ch chan<- prometheus.Metric, m engine.Metrics) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(dActive, prometheus.GaugeValue, float64(m.ActiveWebSockets))
	ch <- prometheus.MustNewConstMetric(dOpen, prometheus.GaugeValue, float64(m.Active))
	counter(dAccepted, m.Accepted)
	counter(dUpgrades, m.Upgrades)
	for _, o := range sortedKeys(m.Outcomes) {
		counter(dOutcomes, m.Outcomes[o], o)
	}
	draining := 0.0
	if m.Draining {
		draining = 1
	}
	ch <- prometheus.MustNewConstMetric(dDraining, prometheus.GaugeValue, draining)
	ch <- prometheus.MustNewConstMetric(dRoutes, prometheus.GaugeValue, float64(m.Routes))
	for _, r := range sortedKeys(m.Rejected) {
		counter(dRejections, m.Rejected[r], r)
	}
	counter(dPairings, m.Paired)
	counter(dPairingsAuth, m.PairedAuthenticated)
	counter(dMTEOps, m.Decoded, "decode")
	counter(dMTEOps, m.Encoded, "encode")
	counter(dBytes, m.DecodedBytes, "client_to_upstream")
	counter(dBytes, m.EncodedBytes, "upstream_to_client")
	counter(dHighWater, m.HighWater)
	for _, b := range sortedKeys(m.Shed) {
		counter(dShed, m.Shed[b], b)
	}
	ch <- prometheus.MustNewConstMetric(dMemHeld, prometheus.GaugeValue, float64(m.MemoryHeld))
	counter(dShed, m.Descriptors.Refused, "descriptors")
	counter(dShed, m.Descriptors.Evicted, "pending_evicted")
	counter(dShed, m.Descriptors.AcceptDropped, "accept_error")
	counter(dAcceptErrors, m.Descriptors.AcceptErrors)
	ch <- prometheus.MustNewConstMetric(dFDsInUse, prometheus.GaugeValue, float64(m.Descriptors.InUse))
	ch <- prometheus.MustNewConstMetric(dFDBudget, prometheus.GaugeValue, float64(m.Descriptors.Budget))
	for _, code := range sortedKeys(m.CloseCodes) {
		counter(dCloseCodes, m.CloseCodes[code], code)
	}
	ch <- histogram(dPairingDur, m.Pairing, nanosPerSecon)
	ch <- histogram(dSession, m.Session, nanosPerSecon)
	ch <- histogram(dDial, m.Dial, nanosPerSecon)
	ch <- histogram(dMTEDur, m.Decode, nanosPerSecon, "decode")
	ch <- histogram(dMTEDur, m.Encode, nanosPerSecon, "encode")
	ch <- histogram(dPayload, m.PayloadUp, 1, "client_to_upstream")
	ch <- histogram(dPayload, m.PayloadDown, 1, "upstream_to_client")
}

// histogram converts an engine snapshot (native units, per-bucket counts)
// to a Prometheus histogram (base units: native / div, cumulative).
func histogram(d *prometheus.Desc, h engine.HistogramSnapshot, div float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum, total uint64
	for _, n := range h.Counts {
		total += n
	}
	for i, b := range h.Bounds {
		cum += h.Counts[i]
		buckets[float64(b)/div] = cum
	}
	return prometheus.MustNewConstHistogram(d, total, float64(h.Sum)/div, buckets, labels...)
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
