package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dbtdbx/dbtdbx/token"
)

// directStore is a private home for dbtdbx runs against a stand-in token
// endpoint at host, with the store (storage: keyring or file) that dbtdbx
// reads there opened by the test itself, to put logins in and look at them.
type directStore struct {
	home  string
	env   []string // the environment of the dbtdbx runs
	key   token.Key
	store token.Store // emptied of key when the test ends
}

func newDirectStore(t *testing.T, storage, host, clientPrefix string) directStore {
	t.Helper()
	home := t.TempDir()
	d := directStore{
		home: home,
		env: []string{
			"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
			"TMPDIR=" + os.TempDir(), "DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
			"DBTDBX_STORAGE=" + storage, "PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "NO_COLOR=1",
		},
		// A client id of the test's own: the keyring and the lock directory
		// are shared with other tests and runs.
		key:   token.Key{Host: host, ClientID: clientPrefix + "-" + storage + "-" + filepath.Base(home)},
		store: token.WithKernelCache(&token.Keyring{}, true, nil, nil),
	}
	if storage == "file" {
		d.store = &token.File{Path: filepath.Join(home, ".config", "dbtdbx", "tokens.json")}
	}
	t.Cleanup(func() { _ = d.store.Delete(d.key) })
	return d
}
