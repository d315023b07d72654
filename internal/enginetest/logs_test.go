package enginetest

import (
	"testing"

	"go.uber.org/zap"
)

// Logs encodes at Write: a []byte field changed after the call is logged as
// it was, nested objects are flattened with dots and With fields come first.
func TestLogsEncodeAtWrite(t *testing.T) {
	logs := NewLogs(zap.InfoLevel)
	log := zap.New(logs).With(zap.String("conn", "c1"))
	buf := []byte("before")
	log.Info("line", zap.ByteString("b", buf), zap.Dict("audit", zap.Int("close_code", 1000)))
	copy(buf, "after!")
	log.Debug("dropped")
	got := logs.All()
	if len(got) != 1 || logs.Len() != 1 {
		t.Fatalf("entries %+v, want one", got)
	}
	e := got[0]
	if e.Message != "line" || e.Level != zap.InfoLevel || e.Fields["b"] != "before" ||
		e.Fields["audit.close_code"] != "1000" || e.Fields["conn"] != "c1" || len(e.Fields) != 3 {
		t.Fatalf("entry %+v", e)
	}
}
