package metering

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// stateVersion is the layout version of the state file.
const stateVersion = 1

// StateFileName is the file the meter keeps in METERING_STATE_DIR.
const StateFileName = "metering-state.json"

type stateBucket struct {
	Hour    int64  `json:"hour"`
	Encoded uint64 `json:"encoded"`
	Decoded uint64 `json:"decoded"`
}

type stateFile struct {
	Version  int           `json:"version"`
	Provider Provider      `json:"provider"`
	Buckets  []stateBucket `json:"buckets"`
	Pending  []record      `json:"pending"`
	Done     []doneKey     `json:"done"`
}

func (l *ledger) marshal(p Provider) ([]byte, error) {
	s := stateFile{Version: stateVersion, Provider: p, Buckets: []stateBucket{}, Pending: l.Pending, Done: []doneKey{}}
	if s.Pending == nil {
		s.Pending = []record{}
	}
	for h, b := range l.Buckets {
		if *b == ([numDims]uint64{}) {
			continue
		}
		s.Buckets = append(s.Buckets, stateBucket{Hour: h, Encoded: b[dimEncoded], Decoded: b[dimDecoded]})
	}
	sort.Slice(s.Buckets, func(i, j int) bool { return s.Buckets[i].Hour < s.Buckets[j].Hour })
	for k := range l.Done {
		s.Done = append(s.Done, k)
	}
	sort.Slice(s.Done, func(i, j int) bool {
		if s.Done[i].Hour != s.Done[j].Hour {
			return s.Done[i].Hour < s.Done[j].Hour
		}
		return s.Done[i].Dim < s.Done[j].Dim
	})
	return json.MarshalIndent(s, "", " ")
}

func unmarshalLedger(data []byte, p Provider) (ledger, error) {
	var s stateFile
	if err := json.Unmarshal(data, &s); err != nil {
		return ledger{}, fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if s.Version != stateVersion {
		return ledger{}, fmt.Errorf("%w: version %d", ErrBadState, s.Version)
	}
	if s.Provider != p {
		return ledger{}, fmt.Errorf("%w: written for provider %q", ErrBadState, s.Provider)
	}
	l := newLedger()
	for _, b := range s.Buckets {
		if b.Hour%hourSeconds != 0 {
			return ledger{}, fmt.Errorf("%w: bucket hour %d", ErrBadState, b.Hour)
		}
		l.add(b.Hour, dimEncoded, b.Encoded)
		l.add(b.Hour, dimDecoded, b.Decoded)
	}
	for _, k := range s.Done {
		l.Done[k] = true
	}
	for _, r := range s.Pending {
		if r.Dim >= numDims || r.Hour%hourSeconds != 0 || r.Token == "" || r.Quantity == 0 {
			return ledger{}, fmt.Errorf("%w: pending record %+v", ErrBadState, r)
		}
		l.Pending = append(l.Pending, r)
	}
	// Buckets were added before Pending was known: move any count that
	// landed in an hour that has a record (cannot happen with files this
	// package wrote, but a second record for an hour must never be sent).
	for h, b := range l.Buckets {
		for d := range numDims {
			if b[d] != 0 && l.frozen(h, d) {
				n := b[d]
				b[d] = 0
				l.add(h, d, n)
			}
		}
	}
	return l, nil
}

// writeFileAtomic writes data to dir/name through a temporary file, fsync
// and rename, then fsyncs the directory, so a crash leaves either the old
// or the new file.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// loadState reads the state file. A missing file is an empty ledger. An
// unparsable one is renamed to its name + aside (never deleted): the caller
// gets an empty ledger, movedAside and the parse error.
func loadState(dir string, p Provider, aside string) (l ledger, movedAside bool, err error) {
	path := filepath.Join(dir, StateFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newLedger(), false, nil
	}
	if err != nil {
		return newLedger(), false, err
	}
	l, err = unmarshalLedger(data, p)
	if err != nil {
		if rerr := os.Rename(path, path+aside); rerr != nil {
			return newLedger(), false, errors.Join(err, rerr)
		}
		return newLedger(), true, err
	}
	return l, false, nil
}
