package main

import (
	"bytes"
	"context"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/telemetry"
)

// reloader re-reads DOMAIN_MAP_FILE when its content changes (a mounted
// ConfigMap is swapped through a symlink, so content is compared, not
// mtimes) or on SIGHUP. New connections use the new map; existing ones
// keep their route. An invalid file is logged and the old map stays.
// Reloads are counted for the metrics (stats).
type reloader struct {
	path string
	srv  *engine.Server
	log  *zap.Logger

	mu    sync.Mutex // guards the following
	last  []byte
	stats telemetry.ReloadStats
}

func newReloader(path string, srv *engine.Server, log *zap.Logger) *reloader {
	if path == "" {
		return nil
	}
	r := &reloader{path: path, srv: srv, log: log}
	r.last, _ = os.ReadFile(path)
	r.stats.LastSuccess = time.Now() // the map in use was loaded at start-up
	return r
}

// Stats returns the reload counters (telemetry.Sources.Reloads).
func (r *reloader) Stats() telemetry.ReloadStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *reloader) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.reload("")
		}
	}
}

// reload applies the file if it changed (or always, when forced by a
// signal named in why).
func (r *reloader) reload(why string) {
	data, err := os.ReadFile(r.path)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.Failed++
		r.log.Error("DOMAIN_MAP_FILE unreadable; keeping the current routes", zap.String("path", r.path), zap.Error(err))
		return
	}
	if why == "" && bytes.Equal(data, r.last) {
		return
	}
	r.last = data
	m, err := routing.Parse(data)
	if err != nil {
		r.stats.Failed++
		r.log.Error("DOMAIN_MAP_FILE invalid; keeping the current routes", zap.String("path", r.path), zap.Error(err))
		return
	}
	r.srv.SetRoutes(m)
	r.stats.Succeeded++
	r.stats.LastSuccess = time.Now()
	trigger := why
	if trigger == "" {
		trigger = "file changed"
	}
	r.log.Info("DOMAIN_MAP reloaded", zap.String("path", r.path), zap.String("trigger", trigger), zap.Int("keys", len(m.Routes())))
}
