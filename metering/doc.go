// Package metering reports SocketX usage to the AWS and Azure Marketplaces.
//
// The command gets a [Config] from package config (which reads the
// variables and runs [Config.Validate]), creates a [Meter] with
// [New] and a [Source] that returns the engine's cumulative counters of
// successful proxyData encodes and decodes, then:
//
//  1. calls [Meter.Register] before the listener opens (AWS RegisterUsage for
//     register_usage and external_meter; a [*FatalError] means "exit with
//     [ExitCodeNotEntitled]");
//  2. runs [Meter.Run] in the background (request_based only);
//  3. on SIGTERM, after the engine has drained, cancels Run, waits for it to
//     return and calls [Meter.Flush] with a context bounded by the drain
//     timeout.
//
// # Hourly records
//
// Both platforms accept one record per dimension per hour (per task/pod on
// AWS, per resource on Azure) and refuse to change it. The meter therefore
// never reports every BILLING_REPORT_INTERVAL: the interval is how often it
// closes a window (reads the counters, adds the delta to the current UTC
// hour's bucket, persists the buckets) and retries what is due. Windows are
// also closed at every hour boundary, so a window never spans two hours.
// When an hour is complete, its bucket is frozen into one [record] per
// dimension (quantity, idempotency token) which is persisted before the
// first attempt and re-sent byte-identical until the platform accepts it,
// reports it as a duplicate (final), rejects it (final, counted as lost) or
// the platform's back-fill limit passes (final, counted as expired). Flush
// freezes the current partial hour the same way. Counts that arrive for an
// hour whose record is already frozen move to the next hour; at Flush, when
// that hour has not begun, they go into the latest earlier hour without a
// record inside the back-fill window, or are logged at error and left in
// METERING_STATE_DIR (Flush returns [ErrUnreported]).
//
// See docs/METERING.md for variables, IAM/identity needs and failure modes.
package metering
