package stored

import "testing"

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
