//go:build unix

package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO where dbtdbx keeps a file of its own fails the command at once, with
// an error that names it and says what to do, rather than making dbtdbx wait
// forever in open(2) for a writer.
func TestFIFOInPlaceOfAFileFailsAtOnce(t *testing.T) {
	for _, c := range []struct {
		name, file, what string
		args             []string
	}{
		{"token file", "tokens.json", "token file", []string{"token", "--storage", "file", "--host", "h.example"}},
		{"lock of the token file", "tokens.json.lock", "lock file", []string{"logout", "--storage", "file", "--host", "h.example"}},
		{"settings file", "settings.json", "settings file", []string{"token", "--host", "h.example"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := t.TempDir()
			if err := os.Mkdir(filepath.Join(cfg, "dbtdbx"), 0o700); err != nil {
				t.Fatal(err)
			}
			fifo := filepath.Join(cfg, "dbtdbx", c.file)
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			// No session bus: should the keyring be tried, it fails at once.
			env := map[string]string{"XDG_CONFIG_HOME": cfg, "DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(cfg, "no-bus")}
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				var r result
				r.code, r.stdout, r.stderr = runCLI(t, env, c.args...)
				done <- r
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				// Let an open(2) waiting for the other end return.
				if fh, err := os.OpenFile(fifo, os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
					_ = fh.Close()
				}
				t.Fatalf("dbtdbx %s blocked on the FIFO %s", strings.Join(c.args, " "), fifo)
			}
			want := "the " + c.what + " " + fifo + " is not a regular file: move it away"
			if r.code != ExitError || r.stdout != "" || !strings.Contains(r.stderr, want) {
				t.Errorf("dbtdbx %s: exit %d, stdout %q, stderr %q; want exit %d saying %q",
					strings.Join(c.args, " "), r.code, r.stdout, r.stderr, ExitError, want)
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode().Type() != os.ModeNamedPipe {
				t.Errorf("the FIFO was not left alone: %v", err)
			}
		})
	}
}
