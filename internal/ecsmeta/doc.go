// Package ecsmeta watches the ECS task metadata endpoint (version 4) for the
// moment ECS decides to stop the task.
//
// During a rolling deployment or a scale-in, ECS sets the task's desired
// status to STOPPED, deregisters the task from its load balancer target
// groups, waits the target group's deregistration delay and only then sends
// SIGTERM. An ALB cuts the connections still open on a target when the
// delay ends, so a proxy that starts draining on SIGTERM has no clients
// left to drain. ${ECS_CONTAINER_METADATA_URI_V4}/task shows DesiredStatus
// "STOPPED" from the start of that sequence; a Watcher polls it and reports
// the change, so the proxy can drain while the ALB still carries its
// connections.
//
// The watcher is one goroutine with one request in flight at a time, each
// bounded by a timeout and a response size limit. An endpoint that is
// missing or failing is logged (once per change between failing and
// answering) and polled again; it never stops the process.
package ecsmeta
