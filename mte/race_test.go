//go:build race

package mte

// raceEnabled: under the race detector crypto/rand.Read lets its argument
// escape (plain builds keep it on the caller's stack).
const raceEnabled = true
