//go:build unix

package token

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dbtdbx's own files are private however permissive the umask, and so they
// never trip the check for files open to others.
func TestFileCreatesPrivateFilesUnderAnyUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	f := fileStore(t)
	if err := f.Save(bigEntry(t, keyN(1), 100)); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(bigEntry(t, keyN(2), 100)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{filepath.Dir(f.Path): 0o700, f.Path: 0o600, f.Path + ".lock": 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", path, st.Mode().Perm(), want)
		}
	}
	if _, err := f.Load(keyN(1)); err != nil {
		t.Errorf("Load: %v", err)
	}
}

func TestFileOpenToOthersIsRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		dir   bool
		mode  os.FileMode
		chmod string
	}{
		{"file readable by all", false, 0o644, "chmod 600 "},
		{"file writable by group", false, 0o620, "chmod 600 "},
		{"directory readable by all", true, 0o755, "chmod 700 "},
		{"directory searchable by group", true, 0o710, "chmod 700 "},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := fileStore(t)
			e := bigEntry(t, keyN(1), 100)
			if err := f.Save(e); err != nil {
				t.Fatal(err)
			}
			path := f.Path
			if c.dir {
				path = filepath.Dir(f.Path)
			}
			if err := os.Chmod(path, c.mode); err != nil {
				t.Fatal(err)
			}
			_, loadErr := f.Load(keyN(1))
			saveErr := f.Save(bigEntry(t, keyN(2), 100))
			for _, err := range []error{loadErr, saveErr} {
				if err == nil || !strings.Contains(err.Error(), c.chmod+path) || errors.Is(err, ErrCorrupt) {
					t.Errorf("got %v, want a refusal naming %q", err, c.chmod+path)
				}
			}
			// Left as it was: someone else may have made it so.
			if st, _ := os.Stat(path); st.Mode().Perm() != c.mode {
				t.Errorf("mode changed to %04o", st.Mode().Perm())
			}
			if err := os.Chmod(path, map[bool]os.FileMode{false: 0o600, true: 0o700}[c.dir]); err != nil {
				t.Fatal(err)
			}
			if got, err := f.Load(keyN(1)); err != nil || !sameEntry(got, e) {
				t.Errorf("Load after chmod: %v", err)
			}
		})
	}
}
