package ecsmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// StatusStopped is the DesiredStatus of a task ECS has decided to stop.
const StatusStopped = "STOPPED"

// maxTaskBody bounds a task metadata response. A task document lists every
// container with its networks and limits; a few KiB is usual.
const maxTaskBody = 1 << 20

// Task holds the fields of the task metadata v4 document the watcher reads.
type Task struct {
	TaskARN       string `json:"TaskARN"`
	DesiredStatus string `json:"DesiredStatus"`
	KnownStatus   string `json:"KnownStatus"`
}

// Config says where and how often to poll. The command builds it from
// ECS_CONTAINER_METADATA_URI_V4.
type Config struct {
	// MetadataURI is ${ECS_CONTAINER_METADATA_URI_V4}; the watcher reads
	// MetadataURI + "/task".
	MetadataURI string
	// Interval between polls; DefaultInterval when zero.
	Interval time.Duration
	// Timeout of one request; DefaultTimeout when zero.
	Timeout time.Duration
}

// Defaults: a stop is noticed within about two seconds, and one slow
// answer cannot hold a poll for longer than a second.
const (
	DefaultInterval = 2 * time.Second
	DefaultTimeout  = time.Second
)

// Validate reports a configuration the watcher cannot use.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.MetadataURI, "http://") && !strings.HasPrefix(c.MetadataURI, "https://") {
		return fmt.Errorf("ecsmeta: metadata URI %q is not an http:// URL", c.MetadataURI)
	}
	if c.Interval < 0 || c.Timeout < 0 {
		return errors.New("ecsmeta: negative interval or timeout")
	}
	return nil
}

// Watcher polls the task metadata endpoint. Create it with New.
type Watcher struct {
	url      string
	interval time.Duration
	client   *http.Client
	log      *zap.Logger
}

// New returns a watcher of cfg.MetadataURI + "/task".
func New(cfg Config, log *zap.Logger) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Watcher{
		url:      strings.TrimSuffix(cfg.MetadataURI, "/") + "/task",
		interval: cfg.Interval,
		client:   &http.Client{Timeout: cfg.Timeout},
		log:      log,
	}
	if w.interval == 0 {
		w.interval = DefaultInterval
	}
	if w.client.Timeout == 0 {
		w.client.Timeout = DefaultTimeout
	}
	return w, nil
}

// Fetch reads the task document once.
func (w *Watcher) Fetch(ctx context.Context) (Task, error) {
	var t Task
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url, nil)
	if err != nil {
		return t, fmt.Errorf("ecsmeta: %w", err)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return t, fmt.Errorf("ecsmeta: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxTaskBody)
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, body)
		return t, fmt.Errorf("ecsmeta: GET %s: %s", w.url, resp.Status)
	}
	if err := json.NewDecoder(body).Decode(&t); err != nil {
		return t, fmt.Errorf("ecsmeta: GET %s: %w", w.url, err)
	}
	return t, nil
}

// WaitStopped polls until the task's DesiredStatus is STOPPED and returns
// that document, or returns ctx's error when ctx ends first. Failed polls
// are logged at warn level when polling starts failing and at info level
// when it recovers, never once per poll.
func (w *Watcher) WaitStopped(ctx context.Context) (Task, error) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	failing := false
	for {
		t, err := w.Fetch(ctx)
		switch {
		case ctx.Err() != nil:
			return Task{}, ctx.Err()
		case err != nil:
			if !failing {
				w.log.Warn("ECS task metadata unavailable; polling continues", zap.Error(err))
				failing = true
			}
		default:
			if failing {
				w.log.Info("ECS task metadata available again")
				failing = false
			}
			if t.DesiredStatus == StatusStopped {
				return t, nil
			}
		}
		select {
		case <-ctx.Done():
			return Task{}, ctx.Err()
		case <-tick.C:
		}
	}
}
