package loadgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/socketx/socketx-server/mte"
)

// strengthNames maps the names ParseStrength accepts, as MTE_KEY_EXCHANGE
// spells them, to Config.Strength values.
var strengthNames = map[string]int{
	"x25519":    int(mte.StrengthClassical),
	"mlkem512":  int(mte.Strength512),
	"mlkem768":  int(mte.Strength768),
	"mlkem1024": int(mte.Strength1024),
	"xwing":     int(mte.StrengthXWing),
}

func validStrength(s int) bool {
	for _, v := range strengthNames {
		if s == v {
			return true
		}
	}
	return false
}

// ParseStrength reads a key exchange for Config.Strength: a
// MTE_KYBER_STRENGTH number (0, 512, 768, 1024) or a MTE_KEY_EXCHANGE name
// (x25519, mlkem512, mlkem768, mlkem1024, xwing), case-insensitive.
func ParseStrength(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if v, ok := strengthNames[s]; ok {
		return v, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n != int(mte.StrengthXWing) && validStrength(n) {
		return n, nil
	}
	return 0, fmt.Errorf("%w: key exchange %q: want 0, 512, 768, 1024, x25519, mlkem512, mlkem768, mlkem1024 or xwing", ErrBadConfig, s)
}

// StrengthName is the MTE_KEY_EXCHANGE name of a Config.Strength value
// ("xwing", "mlkem512", ...), or its number when it has none.
func StrengthName(s int) string {
	for k, v := range strengthNames {
		if v == s {
			return k
		}
	}
	return strconv.Itoa(s)
}

// StrengthFlag is a flag.Value over a Config.Strength: Set takes what
// ParseStrength does, String prints the number for the ML-KEM strengths and
// 0 (as -strength always did) and "xwing" for X-Wing.
type StrengthFlag struct{ P *int }

// String implements flag.Value.
func (f StrengthFlag) String() string {
	if f.P == nil {
		return ""
	}
	if *f.P == int(mte.StrengthXWing) {
		return "xwing"
	}
	return strconv.Itoa(*f.P)
}

// Set implements flag.Value.
func (f StrengthFlag) Set(s string) error {
	v, err := ParseStrength(s)
	if err != nil {
		return err
	}
	*f.P = v
	return nil
}
