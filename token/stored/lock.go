package stored

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// DefaultLockWait bounds the wait for a lock held by another process.
const DefaultLockWait = 30 * time.Second

// ErrLockTimeout is wrapped when a lock was not free within the wait.
var ErrLockTimeout = errors.New("another dbtdbx holds the lock")

// Lock is an exclusive lock on a file, shared by every dbtdbx process of
// one user. The operating system releases it when its process dies, so a
// crash never leaves a lock behind.
type Lock struct {
	f      *flock.Flock
	holder string
}

// DefaultLockDir is where lock files live: dbtdbx/locks in the user's
// cache directory. The keyring is one per user whatever the environment
// says, so the locks that guard it are too: the home directory comes from
// the user database, not from HOME or XDG_CACHE_HOME, which differ between a
// Flatpak IDE, `sudo -E` and a terminal of the same user. getenv is asked
// only when the user database has no home for this user.
func DefaultLockDir(getenv func(string) string) (string, error) {
	home := ""
	if u, err := user.Current(); err == nil {
		home = u.HomeDir
	}
	if home == "" {
		home = getenv("HOME")
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv("LocalAppData")
	case "darwin":
		base = filepath.Join(home, "Library", "Caches")
	default:
		base = filepath.Join(home, ".cache")
	}
	if home == "" && base == "" || !filepath.IsAbs(base) {
		return "", errors.New("cannot find a directory for lock files: this user has no home directory")
	}
	return filepath.Join(base, "dbtdbx", "locks"), nil
}

// LockPath is the lock file in dir for one purpose ("refresh", "login") of
// key. The name is a digest, so any host and client id make a valid name.
func LockPath(dir, purpose string, key Key) string {
	sum := sha256.Sum256([]byte(key.String()))
	return filepath.Join(dir, fmt.Sprintf("%s-%x.lock", purpose, sum[:12]))
}

// Acquire takes the lock at path, waiting up to wait (DefaultLockWait when
// zero) while another process holds it. what says who takes it ("dbtdbx
// token"), for the message a waiter that gives up prints. The error wraps
// ErrLockTimeout when the wait ran out, or is ctx's error.
func Acquire(ctx context.Context, path string, wait time.Duration, what string) (*Lock, error) {
	if wait <= 0 {
		wait = DefaultLockWait
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the lock directory: %w", err)
	}
	// A FIFO or the like is refused in words here; should one take the
	// file's place after this test, O_NONBLOCK still keeps flock's open of
	// it from waiting for a writer forever. (These are flock's own flags
	// on every system dbtdbx is built for, with O_NONBLOCK added.)
	if err := checkRegular(path, "lock file"); errors.Is(err, ErrNotRegular) {
		return nil, err
	}
	f := flock.New(path, flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDONLY|syscall.O_NONBLOCK))
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err := f.TryLockContext(wctx, 5*time.Millisecond)
	switch {
	case ok:
		l := &Lock{f: f, holder: path + ".holder"}
		info := fmt.Sprintf("%s (pid %d, since %s)", what, os.Getpid(), time.Now().Format(time.TimeOnly))
		writeHolder(l.holder, info)
		return l, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil && !errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	holder := "another dbtdbx"
	if b, err := ReadRegular(path+".holder", "lock holder file"); err == nil && len(b) > 0 {
		holder = strings.TrimSpace(string(b))
	}
	return nil, fmt.Errorf("%w: waited %s for %s to finish (lock file %s); if it hangs, stop it and try again",
		ErrLockTimeout, wait, holder, path)
}

// writeHolder says in the file at path who holds the lock, for waiters to
// tell. It is only a hint: it gives up on anything it cannot open at once
// (O_NONBLOCK makes the open of a FIFO without a reader fail rather than
// wait) or that is not a regular file.
func writeHolder(path, info string) {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !st.Mode().IsRegular() || fh.Truncate(0) != nil {
		return
	}
	_, _ = fh.WriteString(info)
}

// Release gives the lock up. It is safe to call more than once.
func (l *Lock) Release() {
	if l == nil || !l.f.Locked() {
		return
	}
	_ = os.Remove(l.holder)
	_ = l.f.Unlock()
}
