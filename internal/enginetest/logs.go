package enginetest

import (
	"fmt"
	"sync"

	"go.uber.org/zap/zapcore"
)

// Logs is a zapcore.Core that keeps every entry written through it, its
// fields encoded at Write time and flattened to strings.
type Logs struct {
	zapcore.LevelEnabler
	ctx []zapcore.Field // from With
	out *logEntries     // shared by every core With derives
}

type logEntries struct {
	mu      sync.Mutex // guards entries
	entries []Entry
}

var _ zapcore.Core = (*Logs)(nil)

// Entry is one written log line. Fields maps each field to its value as
// fmt.Sprint prints it; fields of nested objects are named with a dot
// ("audit.close_code").
type Entry struct {
	Level   zapcore.Level
	Message string
	Fields  map[string]string
}

// NewLogs returns a core that keeps the entries lvl enables.
func NewLogs(lvl zapcore.LevelEnabler) *Logs {
	return &Logs{LevelEnabler: lvl, out: &logEntries{}}
}

// With implements zapcore.Core.
func (l *Logs) With(fields []zapcore.Field) zapcore.Core {
	return &Logs{LevelEnabler: l.LevelEnabler, ctx: append(append([]zapcore.Field(nil), l.ctx...), fields...), out: l.out}
}

// Check implements zapcore.Core.
func (l *Logs) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if l.Enabled(e.Level) {
		return ce.AddCore(e, l)
	}
	return ce
}

// Write implements zapcore.Core: it encodes the fields before returning.
func (l *Logs) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range l.ctx {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	flat := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			flat[prefix+k] = fmt.Sprint(v)
		}
	}
	walk("", enc.Fields)
	l.out.mu.Lock()
	l.out.entries = append(l.out.entries, Entry{e.Level, e.Message, flat})
	l.out.mu.Unlock()
	return nil
}

// Sync implements zapcore.Core.
func (l *Logs) Sync() error { return nil }

// Len is the number of entries written so far.
func (l *Logs) Len() int {
	l.out.mu.Lock()
	defer l.out.mu.Unlock()
	return len(l.out.entries)
}

// All returns a copy of the entries written so far.
func (l *Logs) All() []Entry {
	l.out.mu.Lock()
	defer l.out.mu.Unlock()
	return append([]Entry(nil), l.out.entries...)
}
