// Package telemetry exposes what the proxy measures: a Prometheus registry
// whose collector reads the engine's, the upstream manager's and the
// meter's snapshots at scrape time (so the hot path only ever does atomic
// adds), the admin HTTP handler (/metrics, /debug/pprof/*, /health,
// /ready), and CloudWatch Embedded Metric Format lines for ECS users
// without Prometheus.
package telemetry
