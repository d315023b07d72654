package metering

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Source returns the engine's CUMULATIVE counts of successful proxyData
// encodes (upstream→client) and decodes (client→upstream) since the process
// started. It must be safe to call from another goroutine.
type Source func() (encoded, decoded uint64)

// Stats are cumulative figures for metrics (socketx_metering_*).
type Stats struct {
	Provider  string // "aws", "azure" or "" when metering is off
	Accepted  uint64 // records the platform accepted
	Duplicate uint64 // records the platform already had (AWS DuplicateRequest, Azure 409): final
	Rejected  uint64 // records the platform refused for good (lost, logged at error)
	Expired   uint64 // records past the platform's back-fill limit (lost, logged at error)
	Failed    uint64 // transient failures (throttling, 5xx, network); retried

	UnreportedEncoded uint64 // counted, not yet accepted (gauge)
	UnreportedDecoded uint64
	LostEncoded       uint64 // quantities of Rejected and Expired records
	LostDecoded       uint64
	CarriedOver       uint64 // quantity moved to a later hour (int32 cap, late counts)
	Folded            uint64 // quantity an exit flush reported in an earlier free hour (its own had not begun)
	Pending           int    // frozen records waiting to be sent (gauge)
	StateErrors       uint64 // failed state-file writes
}

// result is the outcome of one report attempt.
type result uint8

const (
	resultAccepted result = iota
	resultDuplicate
	resultRejected
	resultExpired
	resultTransient
)

func (r result) String() string {
	return [...]string{"accepted", "duplicate", "rejected", "expired", "failed"}[r]
}

type outcome struct {
	result result
	id     string // MeteringRecordId / usageEventId
	err    error
}

// reporter is one platform's record sender.
type reporter interface {
	// maxQuantity is the largest quantity one record may carry.
	maxQuantity() uint64
	// maxAge is how long after its hour start a record is still accepted.
	maxAge() time.Duration
	// dimensionName is the platform's dimension identifier.
	dimensionName(d dimension) string
	// plan fixes how each record of recs (all due) that was never sent
	// will be carried (Azure: Req, Batch); the meter persists the result
	// before send. Records already planned keep their plan.
	plan(recs []record)
	// send reports recs (all due) and returns one outcome per record.
	send(ctx context.Context, recs []record) []outcome
}

// Option configures a Meter (tests inject clocks and clients).
type Option func(*Meter)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(m *Meter) { m.now = now } }

// WithAfter replaces time.After for the waits of Run, Flush and Register.
func WithAfter(after func(time.Duration) <-chan time.Time) Option {
	return func(m *Meter) { m.after = after }
}

// WithAWSClient injects the AWS Marketplace Metering client (tests).
func WithAWSClient(c AWSAPI) Option { return func(m *Meter) { m.awsClient = c } }

// WithHTTPClient sets the HTTP client for Azure calls (metering, IMDS, ARM).
func WithHTTPClient(c *http.Client) Option { return func(m *Meter) { m.httpClient = c } }

// WithTokenSource injects the Azure token source (tests).
func WithTokenSource(ts TokenSource) Option { return func(m *Meter) { m.tokens = ts } }

// WithTokenGenerator replaces the random idempotency tokens (tests).
func WithTokenGenerator(f func() string) Option { return func(m *Meter) { m.newToken = f } }

// Timing of retries.
const (
	attemptTimeout   = 30 * time.Second // one HTTP call
	retryBase        = 2 * time.Second  // first backoff of a record
	retryCap         = 5 * time.Minute  // longest backoff of a record
	doneRetention    = 25 * time.Hour   // how long final marks are kept
	registerAttempts = 5
	registerBase     = time.Second
)

// foldMargin: an exit flush reports counts of an hour that has not begun in
// an earlier hour only if that hour stays inside the platform's back-fill
// window this much longer, leaving the next process time to retry.
const foldMargin = 30 * time.Minute

// Meter reports usage. Create with [New].
type Meter struct {
	cfg   Config
	src   Source
	log   *zap.Logger
	now   func() time.Time
	after func(time.Duration) <-chan time.Time

	newToken   func() string
	awsClient  AWSAPI
	httpClient *http.Client
	tokens     TokenSource
	rep        reporter // nil unless request_based

	mu          sync.Mutex // guards the following; held while sending
	led         ledger
	lastEnc     uint64 // source counters at the last window close
	lastDec     uint64
	windowStart time.Time

	accepted, duplicate, rejected, expired, failed atomic.Uint64
	unrepEnc, unrepDec, lostEnc, lostDec, carried  atomic.Uint64
	folded                                         atomic.Uint64
	stateErrs                                      atomic.Uint64
	pending                                        atomic.Int64
}

// New builds a Meter. It loads METERING_STATE_DIR's state when set. For
// eclypses_no_billing every method is a no-op. src may be nil unless the
// strategy is request_based.
func New(cfg Config, src Source, log *zap.Logger, opts ...Option) (*Meter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	m := &Meter{cfg: cfg, src: src, log: log, now: time.Now, after: time.After, newToken: randomToken, led: newLedger()}
	for _, o := range opts {
		o(m)
	}
	if m.httpClient == nil {
		m.httpClient = &http.Client{Timeout: attemptTimeout}
	}
	if !cfg.Enabled() {
		return m, nil
	}
	var err error
	switch cfg.Provider {
	case ProviderAWS:
		if m.awsClient == nil {
			if m.awsClient, err = newAWSClient(cfg); err != nil {
				return nil, err
			}
		}
		if cfg.Strategy == StrategyRequestBased {
			m.rep = &awsReporter{m: m}
		}
	case ProviderAzure:
		if m.tokens == nil {
			if m.tokens, err = newAzureTokenSource(cfg); err != nil {
				return nil, err
			}
		}
		m.rep = newAzureReporter(m)
	}
	if m.rep != nil && src == nil {
		return nil, ErrSourceRequired
	}
	m.windowStart = m.now()
	if cfg.StateDir != "" && m.rep != nil {
		suffix := fmt.Sprintf(".bad-%d", m.now().Unix())
		l, aside, err := loadState(cfg.StateDir, cfg.Provider, suffix)
		if err != nil && !aside {
			return nil, fmt.Errorf("metering: METERING_STATE_DIR=%s: %w", cfg.StateDir, err)
		}
		if err != nil {
			log.Error("metering: state file unreadable, moved aside; starting empty",
				zap.String("dir", cfg.StateDir), zap.Error(err))
		}
		m.led = l
		if len(l.Pending) > 0 || len(l.Buckets) > 0 {
			u := l.unreported()
			log.Info("metering: loaded unreported usage from state",
				zap.Int("pending_records", len(l.Pending)), zap.Int("open_hours", len(l.Buckets)),
				zap.Uint64("encoded", u[dimEncoded]), zap.Uint64("decoded", u[dimDecoded]))
		}
		// Make sure the directory is writable now rather than at the first window.
		m.persistLocked()
		if m.stateErrs.Load() != 0 {
			return nil, fmt.Errorf("metering: METERING_STATE_DIR=%s: not writable", cfg.StateDir)
		}
	}
	m.updateGaugesLocked()
	return m, nil
}

// randomToken returns a random UUIDv4-shaped token. Random (not derived from
// the hour) so that two tasks with equal quantities never share a token.
func randomToken() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Stats returns cumulative figures; it never blocks on a report in flight.
func (m *Meter) Stats() Stats {
	s := Stats{
		Accepted: m.accepted.Load(), Duplicate: m.duplicate.Load(), Rejected: m.rejected.Load(),
		Expired: m.expired.Load(), Failed: m.failed.Load(),
		UnreportedEncoded: m.unrepEnc.Load(), UnreportedDecoded: m.unrepDec.Load(),
		LostEncoded: m.lostEnc.Load(), LostDecoded: m.lostDec.Load(), CarriedOver: m.carried.Load(), Folded: m.folded.Load(),
		Pending: int(m.pending.Load()), StateErrors: m.stateErrs.Load(),
	}
	if m.cfg.Enabled() {
		s.Provider = string(m.cfg.Provider)
	}
	return s
}

// Run is the request_based reporter: it closes a window every
// BILLING_REPORT_INTERVAL and at every UTC hour boundary, freezes completed
// hours and sends due records, until ctx ends (then it returns nil; call
// Flush afterwards). For other strategies it returns nil at once.
func (m *Meter) Run(ctx context.Context) error {
	if m.rep == nil {
		return nil
	}
	for {
		wake := m.tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-m.after(wake.Sub(m.now())):
		}
	}
}

// tick closes the window, freezes completed hours, sends what is due and
// returns when the next tick is due.
func (m *Meter) tick(ctx context.Context) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.closeWindowLocked(now)
	m.freezeLocked(hourOf(now), now)
	m.persistLocked()
	m.sendDueLocked(ctx, now)
	m.persistLocked()
	m.updateGaugesLocked()
	return m.nextWakeLocked()
}

func (m *Meter) nextWakeLocked() time.Time {
	wake := m.windowStart.Add(m.cfg.ReportInterval)
	if hb := time.Unix(hourOf(m.windowStart)+hourSeconds, 0); hb.Before(wake) {
		wake = hb
	}
	for _, r := range m.led.Pending {
		if t := time.Unix(0, r.NextAt); t.Before(wake) {
			wake = t
		}
	}
	return wake
}

// closeWindowLocked adds the counters' delta since the last close to the
// hour the window started in (windows end at hour boundaries, so only a
// late timer puts a few milliseconds of the next hour into the previous).
func (m *Meter) closeWindowLocked(now time.Time) {
	enc, dec := m.src()
	dEnc, dDec := enc-m.lastEnc, dec-m.lastDec
	if enc < m.lastEnc || dec < m.lastDec {
		// A source must be cumulative; a reset means a new engine: count
		// what it has from zero and say so.
		m.log.Warn("metering: counter source went backwards; counting from zero",
			zap.Uint64("encoded", enc), zap.Uint64("decoded", dec),
			zap.Uint64("last_encoded", m.lastEnc), zap.Uint64("last_decoded", m.lastDec))
		if enc < m.lastEnc {
			dEnc = enc
		}
		if dec < m.lastDec {
			dDec = dec
		}
	}
	m.lastEnc, m.lastDec = enc, dec
	h := hourOf(m.windowStart)
	for d, n := range [numDims]uint64{dEnc, dDec} {
		if moved := m.led.add(h, dimension(d), n); moved > 0 {
			m.carried.Add(n)
			m.log.Warn("metering: counts for an hour already reported moved to a later hour",
				zap.Time("hour", time.Unix(h, 0).UTC()), zap.String("dimension", m.rep.dimensionName(dimension(d))),
				zap.Uint64("quantity", n), zap.Int64("hours_later", moved))
		}
	}
	m.windowStart = now
}

// freezeLocked turns every open hour before upTo into records.
func (m *Meter) freezeLocked(upTo int64, now time.Time) {
	recs, carried := m.led.freeze(upTo, m.rep.maxQuantity(), m.newToken, now.UnixNano())
	for _, r := range recs {
		m.log.Info("metering: hour closed",
			zap.Time("hour", time.Unix(r.Hour, 0).UTC()), zap.String("dimension", m.rep.dimensionName(r.Dim)),
			zap.Uint64("quantity", r.Quantity), zap.String("token", r.Token))
	}
	if carried > 0 {
		m.carried.Add(carried)
		m.log.Warn("metering: hourly quantity above the platform maximum; rest carried to the next hour",
			zap.Uint64("carried", carried), zap.Uint64("max", m.rep.maxQuantity()))
	}
	m.led.prune(hourOf(now.Add(-doneRetention)))
}

// sendDueLocked sends every pending record whose time has come.
func (m *Meter) sendDueLocked(ctx context.Context, now time.Time) {
	var due []record
	for _, r := range m.led.Pending {
		if now.Sub(time.Unix(r.Hour, 0)) >= m.rep.maxAge() {
			m.applyLocked(r, outcome{result: resultExpired}, now)
			continue
		}
		if r.NextAt <= now.UnixNano() {
			due = append(due, r)
		}
	}
	if len(due) == 0 || ctx.Err() != nil {
		return
	}
	m.planLocked(due)
	for _, r := range due {
		m.log.Info("metering: report attempt", zap.String("provider", string(m.cfg.Provider)),
			zap.Time("hour", time.Unix(r.Hour, 0).UTC()), zap.String("dimension", m.rep.dimensionName(r.Dim)),
			zap.Uint64("quantity", r.Quantity), zap.String("token", r.Token), zap.Int("attempt", r.Attempts+1))
	}
	outs := m.rep.send(ctx, due)
	for i, r := range due {
		m.applyLocked(r, outs[i], now)
	}
}

// planLocked lets the reporter fix how never-sent records in due will be
// carried and, if it did, copies that into the ledger and persists it
// before the first attempt, so a retry after a crash is the same request.
func (m *Meter) planLocked(due []record) {
	m.rep.plan(due)
	changed := false
	for _, r := range due {
		for i := range m.led.Pending {
			p := &m.led.Pending[i]
			if p.Hour == r.Hour && p.Dim == r.Dim && (p.Req != r.Req || p.Batch != r.Batch) {
				p.Req, p.Batch = r.Req, r.Batch
				changed = true
			}
		}
	}
	if changed {
		m.persistLocked()
	}
}

// applyLocked records the outcome of r.
func (m *Meter) applyLocked(r record, o outcome, now time.Time) {
	fields := []zap.Field{
		zap.String("provider", string(m.cfg.Provider)), zap.Time("hour", time.Unix(r.Hour, 0).UTC()),
		zap.String("dimension", m.rep.dimensionName(r.Dim)), zap.Uint64("quantity", r.Quantity),
		zap.String("token", r.Token), zap.String("result", o.result.String()),
	}
	if o.id != "" {
		fields = append(fields, zap.String("record_id", o.id))
	}
	if o.err != nil {
		fields = append(fields, zap.Error(o.err))
	}
	lost := func() {
		if r.Dim == dimEncoded {
			m.lostEnc.Add(r.Quantity)
		} else {
			m.lostDec.Add(r.Quantity)
		}
	}
	switch o.result {
	case resultAccepted:
		m.accepted.Add(1)
		m.led.finish(r.Hour, r.Dim)
		m.log.Info("metering: report accepted", fields...)
	case resultDuplicate:
		m.duplicate.Add(1)
		m.led.finish(r.Hour, r.Dim)
		m.log.Warn("metering: report already recorded (duplicate); final", fields...)
	case resultRejected:
		m.rejected.Add(1)
		lost()
		m.led.finish(r.Hour, r.Dim)
		m.log.Error("metering: report rejected; usage of this hour and dimension is lost", fields...)
	case resultExpired:
		m.expired.Add(1)
		lost()
		m.led.finish(r.Hour, r.Dim)
		m.log.Error("metering: report past the platform's back-fill limit; usage is lost", fields...)
	case resultTransient:
		m.failed.Add(1)
		for i := range m.led.Pending {
			p := &m.led.Pending[i]
			if p.Hour == r.Hour && p.Dim == r.Dim {
				p.Attempts++
				p.NextAt = now.Add(backoff(p.Attempts)).UnixNano()
				fields = append(fields, zap.Time("next_attempt", time.Unix(0, p.NextAt).UTC()))
			}
		}
		m.log.Warn("metering: report failed; will retry", fields...)
	}
}

// backoff is the delay before attempt n+1: exponential from retryBase,
// capped at retryCap, with "equal jitter" (half fixed, half random).
func backoff(n int) time.Duration {
	d := retryCap
	if n < 16 {
		if e := retryBase << (n - 1); e < retryCap {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

func (m *Meter) persistLocked() {
	if m.cfg.StateDir == "" || m.rep == nil {
		return
	}
	data, err := m.led.marshal(m.cfg.Provider)
	if err == nil {
		err = writeFileAtomic(m.cfg.StateDir, StateFileName, data)
	}
	if err != nil {
		m.stateErrs.Add(1)
		m.log.Error("metering: cannot persist state", zap.String("dir", m.cfg.StateDir), zap.Error(err))
	}
}

func (m *Meter) updateGaugesLocked() {
	u := m.led.unreported()
	m.unrepEnc.Store(u[dimEncoded])
	m.unrepDec.Store(u[dimDecoded])
	m.pending.Store(int64(len(m.led.Pending)))
}

// Flush reports everything counted so far, including the current partial
// hour, which becomes that hour's only record. Counts of an hour that has
// not begun (they arrived after that hour's record was made, or are an
// int32 carry) cannot be sent early: they go into the latest earlier hour
// that has no record yet for their dimension and is inside the back-fill
// window (minus foldMargin); when there is none they are logged at error
// and left in METERING_STATE_DIR. Flush retries transient failures until
// ctx ends (bound it by the drain timeout). It returns ErrUnreported
// (wrapped, naming the quantities) if anything is left unreported; with
// METERING_STATE_DIR it is persisted for the next process of the task/pod.
// Call it after the engine stopped counting and Run returned.
func (m *Meter) Flush(ctx context.Context) error {
	if m.rep == nil {
		return nil
	}
	m.mu.Lock()
	now := m.now()
	m.closeWindowLocked(now)
	held := m.settleLocked(now)
	for i := range m.led.Pending {
		m.led.Pending[i].NextAt = now.UnixNano() // no backoff left over from Run
	}
	m.persistLocked()
	m.updateGaugesLocked()
	m.mu.Unlock()
	for {
		m.mu.Lock()
		now := m.now()
		m.sendDueLocked(ctx, now)
		m.persistLocked()
		m.updateGaugesLocked()
		left := len(m.led.Pending)
		var wake time.Time
		for i, r := range m.led.Pending {
			if t := time.Unix(0, r.NextAt); i == 0 || t.Before(wake) {
				wake = t
			}
		}
		m.mu.Unlock()
		if left == 0 {
			if len(held) == 0 {
				return nil
			}
			parts := make([]string, len(held))
			for i, h := range held {
				parts[i] = fmt.Sprintf("%s %d counted for %s", m.rep.dimensionName(h.Dim), h.Quantity,
					time.Unix(h.From, 0).UTC().Format(time.RFC3339))
			}
			return fmt.Errorf("%w: %s, an hour that has not begun, and no earlier hour is free", ErrUnreported, strings.Join(parts, ", "))
		}
		select {
		case <-ctx.Done():
			u := m.Stats()
			return fmt.Errorf("%w: %d records (encoded %d, decoded %d)", ErrUnreported, left, u.UnreportedEncoded, u.UnreportedDecoded)
		case <-m.after(wake.Sub(m.now())):
		}
	}
}

// settleLocked freezes every hour up to the current one and folds counts
// of later hours into free earlier ones (see Flush). It logs each move,
// logs at error what is left in later hours, and returns that.
func (m *Meter) settleLocked(now time.Time) (held []move) {
	cur := hourOf(now)
	limit := now.Add(-m.rep.maxAge() + foldMargin).Unix()
	oldest := hourOf(time.Unix(limit, 0))
	if oldest < limit {
		oldest += hourSeconds
	}
	for {
		moves := m.led.fold(cur, oldest)
		for _, mv := range moves {
			m.folded.Add(mv.Quantity)
			m.log.Warn("metering: usage of an hour that has not begun reported in the latest earlier hour without a record",
				zap.Time("counted_for", time.Unix(mv.From, 0).UTC()), zap.Time("hour", time.Unix(mv.To, 0).UTC()),
				zap.String("dimension", m.rep.dimensionName(mv.Dim)), zap.Uint64("quantity", mv.Quantity))
		}
		m.freezeLocked(cur+hourSeconds, now)
		if len(moves) == 0 {
			break
		}
	}
	held = m.led.after(cur)
	msg := "metering: usage of an hour that has not begun cannot be reported now and no earlier hour is free; " +
		"it stays in METERING_STATE_DIR for the next process of this task/pod and is lost if the task/pod ends"
	if m.cfg.StateDir == "" {
		msg = "metering: usage of an hour that has not begun cannot be reported now and no earlier hour is free; " +
			"without METERING_STATE_DIR it is lost at exit"
	}
	for _, h := range held {
		m.log.Error(msg, zap.String("provider", string(m.cfg.Provider)),
			zap.Time("hour", time.Unix(h.From, 0).UTC()), zap.String("dimension", m.rep.dimensionName(h.Dim)),
			zap.Uint64("quantity", h.Quantity), zap.String("state_dir", m.cfg.StateDir))
	}
	return held
}

func randN(n int64) int64 { return rand.Int64N(n) }

// Register is called before the listener opens. AWS register_usage and
// external_meter: RegisterUsage (transient failures retried, bounded). Azure
// request_based: resolves the resource id. Any failure is a [*FatalError].
// Other strategies: no-op.
func (m *Meter) Register(ctx context.Context) error {
	if !m.cfg.Enabled() {
		return nil
	}
	switch {
	case m.cfg.Provider == ProviderAWS && m.cfg.Strategy != StrategyRequestBased:
		return m.registerAWS(ctx)
	case m.cfg.Provider == ProviderAzure:
		return m.registerAzure(ctx)
	}
	return nil
}
