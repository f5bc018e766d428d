package stored

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

// envChild makes this test binary a child process of a test (see child).
const envChild = "DBTDBX_STORED_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child runs in a process of its own: a second writer of the token file,
// a lock holder that can be killed, a process in another keyring session.
func child(mode string) int {
	switch mode {
	case "file-save":
		if err := fileSaveChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "hold-lock":
		// Take the lock named by the first argument, say so, and wait to be killed.
		if _, err := Acquire(context.Background(), os.Getenv("DBTDBX_TOKEN_TEST_LOCK"), time.Minute, "lock-holding child"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("locked")
		select {}
	case "kernel-read", "kernel-drop":
		// Print the access token the kernel cache holds for the key named
		// by the environment, then drop it when asked to. With
		// DBTDBX_TEST_NEW_SESSION set, first join a session keyring of its
		// own, as `keyctl session -` or systemd's KeyringMode=private do:
		// the process then no longer possesses the user keyring.
		if os.Getenv("DBTDBX_TEST_NEW_SESSION") != "" {
			if err := joinNewSessionKeyring(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		c, ok := NewKernelCache(os.Getenv("DBTDBX_TEST_NAMESPACE"))
		if !ok {
			return 1
		}
		key := Key{Host: os.Getenv("DBTDBX_TEST_HOST"), ClientID: os.Getenv("DBTDBX_TEST_CLIENT")}
		e, ok := c.Get(key)
		if !ok {
			fmt.Fprintln(os.Stderr, "not cached")
			return 1
		}
		fmt.Println(e.AccessToken)
		if mode == "kernel-drop" {
			if err := c.Drop(key); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", envChild, mode)
		return 2
	}
}

// childEnv is the environment of a child process (see realpart.ChildEnv),
// which does not inherit this one's child mode.
func childEnv(drop []string, extra ...string) []string {
	return realpart.ChildEnv(append(drop, envChild), extra...)
}

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func entry(lifetime, left time.Duration) *Entry {
	return &Entry{Version: 1, Host: "https://h.example", ClientID: "c", Scopes: []string{"all-apis", "offline_access"},
		AccessToken: "at-old", RefreshToken: "rt-old", Obtained: t0.Add(left - lifetime), Expiry: t0.Add(left), TokenURL: "http://unused/"}
}

// bigEntry is a login for key whose access and refresh tokens are size bytes
// each.
func bigEntry(t *testing.T, key Key, size int) *Entry {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	return &Entry{Version: EntryVersion, Host: key.Host, ClientID: key.ClientID, Scopes: []string{"all-apis", "offline_access"},
		AccessToken: rand.Text()[:min(size, 26)] + strings.Repeat("x", max(0, size-26)), TokenType: "Bearer",
		RefreshToken: rand.Text()[:min(size, 26)] + strings.Repeat("y", max(0, size-26)),
		Obtained:     now, Expiry: now.Add(time.Hour), TokenURL: key.Host + "/oidc/v1/token"}
}

var bigKey = Key{Host: "https://adb-1234567890123456.7.azuredatabricks.net", ClientID: "dbt-databricks"}

func sameEntry(a, b *Entry) bool {
	return a != nil && b != nil && a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken &&
		a.Host == b.Host && a.ClientID == b.ClientID && slices.Equal(a.Scopes, b.Scopes) && a.Expiry.Equal(b.Expiry)
}
