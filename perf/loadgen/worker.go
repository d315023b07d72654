package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// WorkerEnv is the environment variable that turns a bench process into a
// worker: its value is the worker's Config as JSON. The binary's main (or
// TestMain) calls ServeWorker when it is set.
const WorkerEnv = "SOCKETX_BENCH_WORKER"

// workerLine is one JSON line a worker writes to its stdout.
type workerLine struct {
	Progress *Progress `json:"progress,omitempty"`
	DialDone bool      `json:"dial_done,omitempty"`
	Result   *Result   `json:"result,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// ServeWorker runs the Config encoded in spec and reports to w as JSON lines
// (progress each second, dial_done once, then the result). SIGTERM and
// SIGINT end the run early, still with a result.
func ServeWorker(spec string, w io.Writer) error {
	var cfg Config
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		return fmt.Errorf("%w: worker spec: %v", ErrBadConfig, err)
	}
	ctx, stop := signalContext()
	defer stop()
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	emit := func(l workerLine) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(l)
	}
	res, err := Run(ctx, cfg, Hooks{
		Progress: func(p Progress) { emit(workerLine{Progress: &p}) },
		DialDone: func() { emit(workerLine{DialDone: true}) },
	})
	if err != nil {
		emit(workerLine{Error: err.Error()})
		return err
	}
	emit(workerLine{Result: res})
	return nil
}

// RunWorkers runs cfg split over n processes, each exe re-executed with
// WorkerEnv set; connections and rate are divided evenly and the results
// merged. Cancelling ctx sends SIGTERM to the workers, which end early and
// still report.
func RunWorkers(ctx context.Context, cfg Config, n int, exe string, hooks Hooks) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n <= 1 {
		return Run(ctx, cfg, hooks)
	}
	if n > cfg.Conns {
		n = cfg.Conns
	}
	type worker struct {
		cmd      *exec.Cmd
		progress Progress
		dialDone bool
		result   *Result
		err      error
	}
	var mu sync.Mutex // guards workers' progress, dialDone, result, err
	workers := make([]*worker, n)
	var wg sync.WaitGroup
	base := 0
	dialDoneCalled := false
	for i := range workers {
		wc := cfg
		wc.Conns = cfg.Conns / n
		if i < cfg.Conns%n {
			wc.Conns++
		}
		wc.Rate = cfg.Rate / float64(n)
		wc.IndexBase = cfg.IndexBase + base
		base += wc.Conns
		spec, err := json.Marshal(wc)
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), WorkerEnv+"="+string(spec))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			for _, w := range workers[:i] {
				_ = w.cmd.Process.Kill()
			}
			return nil, fmt.Errorf("%w: start: %v", ErrWorker, err)
		}
		w := &worker{cmd: cmd}
		mu.Lock()
		workers[i] = w
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			for sc.Scan() {
				var l workerLine
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					continue
				}
				mu.Lock()
				switch {
				case l.Progress != nil:
					w.progress = *l.Progress
				case l.DialDone:
					w.dialDone = true
					w.progress.DialDone = true
					all := true
					for _, o := range workers {
						all = all && o != nil && o.dialDone
					}
					if all && !dialDoneCalled && hooks.DialDone != nil {
						dialDoneCalled = true
						hooks.DialDone()
					}
				case l.Result != nil:
					w.result = l.Result
				case l.Error != "":
					w.err = fmt.Errorf("%w: %s", ErrWorker, l.Error)
				}
				mu.Unlock()
			}
			if err := cmd.Wait(); err != nil {
				mu.Lock()
				if w.err == nil {
					w.err = fmt.Errorf("%w: %v", ErrWorker, err)
				}
				mu.Unlock()
			}
		}()
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-ctx.Done():
			for _, w := range workers {
				_ = w.cmd.Process.Signal(syscall.SIGTERM)
			}
			<-done
			running = false
		case <-tick.C:
			if hooks.Progress == nil {
				continue
			}
			var sum Progress
			sum.DialDone = true
			mu.Lock()
			for _, w := range workers {
				p := w.progress
				sum.Elapsed = max(sum.Elapsed, p.Elapsed)
				sum.Established += p.Established
				sum.Failed += p.Failed
				sum.Active += p.Active
				sum.Msgs += p.Msgs
				sum.Bytes += p.Bytes
				sum.Errors += p.Errors
				sum.DialDone = sum.DialDone && p.DialDone
			}
			mu.Unlock()
			hooks.Progress(sum)
		}
	}

	var res *Result
	for i, w := range workers {
		if w.result == nil {
			if w.err == nil {
				w.err = fmt.Errorf("%w: worker %d sent no result", ErrWorker, i)
			}
			return nil, w.err
		}
		if res == nil {
			res = w.result
			if res.Errors == nil {
				res.Errors = map[string]uint64{}
			}
			continue
		}
		res.merge(w.result)
	}
	res.Workers = n
	return res, nil
}
