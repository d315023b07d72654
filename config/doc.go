// Package config builds SocketX's one typed configuration from the
// environment, validates it as a whole and renders a redacted view for logs.
//
// Only the command reads the environment: it calls [Load] with os.LookupEnv
// and passes the resulting [Config] into constructors. Every variable of the
// product documentation is listed in [Vars] with its default.
package config
