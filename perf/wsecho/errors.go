package wsecho

import "errors"

// ErrNotRunning is returned by Stop when Run was not called or already ended.
var ErrNotRunning = errors.New("wsecho: server not running")
