package main

import (
	"context"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/internal/ecsmeta"
)

// watchECSStop starts the ECS stop watcher when uri, the value of
// ECS_CONTAINER_METADATA_URI_V4, is set (ECS sets it in every task). The returned channel receives the task
// document once ECS has decided to stop the task, which is before the load
// balancer deregistration completes and before SIGTERM: serve starts the
// drain then, while the ALB still carries the connections. Outside ECS, or
// when the variable is unusable, the channel is nil and never receives.
func watchECSStop(ctx context.Context, uri string, log *zap.Logger) <-chan ecsmeta.Task {
	if uri == "" {
		return nil
	}
	w, err := ecsmeta.New(ecsmeta.Config{MetadataURI: uri}, log)
	if err != nil {
		log.Warn("ECS stop watcher disabled: drains start on SIGTERM only", zap.Error(err))
		return nil
	}
	stopped := make(chan ecsmeta.Task, 1)
	go func() {
		if t, err := w.WaitStopped(ctx); err == nil {
			stopped <- t
		}
	}()
	log.Info("ECS stop watcher started", zap.Float64("interval_seconds", ecsmeta.DefaultInterval.Seconds()))
	return stopped
}
