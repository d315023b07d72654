// Package config builds SocketX's one typed configuration from the
// environment, validates it as a whole and renders a redacted view for logs.
//
// Only the command reads the environment: it calls [Load] with os.LookupEnv.
// Load is the one reader of variables: it parses every variable of [Vars]
// (which lists every variable the binary reads, DOMAIN_MAP's and the
// billing ones included; README.md and docs/METERING.md document exactly
// these, checked by a test) and returns a [Config] that holds, or derives,
// each consumer's plain configuration: [Config.EngineConfig],
// [Config.UpstreamConfig], [Config.MTEParams], Config.Routes (DOMAIN_MAP
// parsed by routing.Parse) and Config.Metering.
//
// Each default lives once: a setting a package owns takes that package's
// default (engine.DefaultConfig, metering's Default constants), shown as the
// variable's default in Vars. Each rule across settings lives once too:
// the engine's in engine.Config.Validate, which [Config.Validate] runs and
// reports in terms of variables; metering's in metering.Config.Validate;
// the rest (DOMAIN_MAP's presence, MEMORY_BUDGET's floor) here. Load
// reports every problem at once, one line each.
package config
