//go:build unix

package stored

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// mkfifo makes a FIFO at path, in a directory it creates private.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// promptly returns op's error, or fails the test when op is still running
// after 10 seconds, as it would be waiting in open(2) for the other end of
// the FIFO at fifo. The other end is then opened and closed, which lets
// such an open return, so that op does not linger.
func promptly(t *testing.T, fifo string, op func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		if fh, err := os.OpenFile(fifo, os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
			_ = fh.Close()
		}
		t.Fatalf("blocked on the FIFO %s", fifo)
		return nil
	}
}

// A FIFO where dbtdbx keeps a file of its own fails at once, with an error
// that names it and says what to do, rather than making dbtdbx wait forever
// for a writer in open(2). The FIFO is left as it is.
func TestFIFOInPlaceOfAFileIsRefusedAtOnce(t *testing.T) {
	key := Key{Host: "https://h.example", ClientID: "c"}
	for _, c := range []struct {
		name string
		// fifo is where the FIFO goes, what its name in the error; op
		// runs into it.
		fifo func(t *testing.T) (fifo, what string, op func() error)
	}{
		{"token file, Load", func(t *testing.T) (string, string, func() error) {
			f := fileStore(t)
			return f.Path, "token file", func() error { _, err := f.Load(key); return err }
		}},
		{"token file, Save", func(t *testing.T) (string, string, func() error) {
			f := fileStore(t)
			return f.Path, "token file", func() error { return f.Save(bigEntry(t, key, 100)) }
		}},
		{"lock of the token file, Save", func(t *testing.T) (string, string, func() error) {
			f := fileStore(t)
			return f.Path + ".lock", "lock file", func() error { return f.Save(bigEntry(t, key, 100)) }
		}},
		{"lock of the token file, Delete", func(t *testing.T) (string, string, func() error) {
			f := fileStore(t)
			return f.Path + ".lock", "lock file", func() error { return f.Delete(key) }
		}},
		{"lock in the lock directory", func(t *testing.T) (string, string, func() error) {
			path := LockPath(filepath.Join(t.TempDir(), "locks"), "refresh", key)
			return path, "lock file", func() error {
				l, err := Acquire(context.Background(), path, time.Second, "dbtdbx token")
				l.Release()
				return err
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fifo, what, op := c.fifo(t)
			mkfifo(t, fifo)
			err := promptly(t, fifo, op)
			want := "the " + what + " " + fifo + " is not a regular file: move it away"
			if !errors.Is(err, ErrNotRegular) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want an error saying %q", err, want)
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode().Type() != os.ModeNamedPipe {
				t.Errorf("the FIFO was not left alone: %v", err)
			}
		})
	}
}

// The file that names a lock's holder is only a hint: a FIFO there neither
// blocks taking the lock nor waiting for it.
func TestFIFOInPlaceOfTheLockHolderFile(t *testing.T) {
	path := LockPath(filepath.Join(t.TempDir(), "locks"), "refresh", Key{Host: "https://h.example", ClientID: "c"})
	mkfifo(t, path+".holder")
	var first *Lock
	err := promptly(t, path+".holder", func() (err error) {
		first, err = Acquire(context.Background(), path, time.Second, "dbtdbx token")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	err = promptly(t, path+".holder", func() error {
		_, err := Acquire(context.Background(), path, 20*time.Millisecond, "dbtdbx login")
		return err
	})
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), path) {
		t.Errorf("second Acquire: %v, want a timeout naming the lock file", err)
	}
}

// Other things than regular files are refused as FIFOs are; symbolic links
// to regular files work.
func TestFileSymlinks(t *testing.T) {
	key := keyN(1)
	t.Run("to a device", func(t *testing.T) {
		f := fileStore(t)
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(os.DevNull, f.Path); err != nil {
			t.Fatal(err)
		}
		want := "the token file " + f.Path + " is not a regular file: move it away"
		if _, err := f.Load(key); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: %v, want an error saying %q", err, want)
		}
	})
	t.Run("to regular files", func(t *testing.T) {
		real := fileStore(t)
		e := bigEntry(t, key, 100)
		if err := real.Save(e); err != nil {
			t.Fatal(err)
		}
		f := fileStore(t)
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"", ".lock"} {
			if err := os.Symlink(real.Path+suffix, f.Path+suffix); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := f.Load(key); err != nil || !sameEntry(got, e) {
			t.Errorf("Load through a symbolic link: %v", err)
		}
		if err := f.Delete(keyN(2)); err != nil {
			t.Errorf("Delete, which takes the lock through a symbolic link: %v", err)
		}
		lock := filepath.Join(t.TempDir(), "refresh.lock")
		if err := os.WriteFile(lock+"-real", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(lock+"-real", lock); err != nil {
			t.Fatal(err)
		}
		l, err := Acquire(context.Background(), lock, time.Second, "dbtdbx token")
		if err != nil {
			t.Errorf("Acquire through a symbolic link: %v", err)
		}
		l.Release()
	})
}
