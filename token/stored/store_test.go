package stored

import (
	"strings"
	"testing"
	"time"
)

func TestKernelCacheOnSpellings(t *testing.T) {
	for v, want := range map[string]bool{"": true, "on": true, "ON": true, "1": true, "true": true, "Yes": true, "off": false, "OFF": false, "0": false, "false": false, "no": false} {
		if got, err := KernelCacheOn(v); err != nil || got != want {
			t.Errorf("%s=%q: %v, %v; want %v", EnvKeyringCache, v, got, err, want)
		}
	}
	if _, err := KernelCacheOn("maybe"); err == nil {
		t.Errorf("%s=maybe: no error", EnvKeyringCache)
	}
}

// DBTDBX_KEYRING_TIMEOUT is a duration or a number of seconds; anything a
// Duration cannot hold is refused, not wrapped round to a negative timeout
// that would quietly mean the default.
func TestKeyringTimeoutSpellings(t *testing.T) {
	for v, want := range map[string]time.Duration{"": DefaultKeyringTimeout, "10s": 10 * time.Second, "1m30s": 90 * time.Second,
		"10": 10 * time.Second, "0.5": 500 * time.Millisecond, "2e3": 2000 * time.Second, "9e9": 9e9 * time.Second} {
		if got, err := KeyringTimeout(func(string) string { return v }); err != nil || got != want {
			t.Errorf("%s=%q: %v, %v; want %v", EnvKeyringTimeout, v, got, err, want)
		}
	}
	for _, v := range []string{"0", "0s", "-1", "-5s", "soon", "NaN", "Inf", "+Inf", "infinity", "1e10", "9.3e9", "1e300", "3000000h"} {
		got, err := KeyringTimeout(func(string) string { return v })
		if err == nil || !strings.Contains(err.Error(), EnvKeyringTimeout) {
			t.Errorf("%s=%q: %v, %v; want an error naming the variable", EnvKeyringTimeout, v, got, err)
		}
	}
}
