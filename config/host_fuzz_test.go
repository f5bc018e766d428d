package config

import (
	"strings"
	"testing"
)

// FuzzNormalizeHost: NormalizeHost never panics; what it returns is in the
// one form tokens are keyed by, and normalising it again changes nothing.
func FuzzNormalizeHost(f *testing.F) {
	for _, seed := range []string{
		"adb-1234.5.azuredatabricks.net", "https://dbc-x.cloud.databricks.com/", "https://x.gcp.databricks.com/?o=123",
		"HOST:443", "http://127.0.0.1:8080/x", "https://[::1]:8443", "ftp://x", "https://user:pw@h", "h:0", "h:99999",
		"https://h/?o=1#frag", " https://h.example. ", "https://%zz", "http://example.com", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeHost(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "https://") && !strings.HasPrefix(got, "http://") || strings.ContainsAny(got[8:], "/?#@ ") {
			t.Fatalf("NormalizeHost(%q) = %q, not https://host[:port]", raw, got)
		}
		if again, err := NormalizeHost(got); err != nil || again != got {
			t.Fatalf("NormalizeHost(%q) = %q, but again gives %q, %v", raw, got, again, err)
		}
	})
}
