package stored

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockIsExclusiveAndNamesItsHolder(t *testing.T) {
	path := LockPath(filepath.Join(t.TempDir(), "locks"), "refresh", Key{Host: "https://h.example", ClientID: "c"})
	first, err := Acquire(context.Background(), path, time.Second, "dbtdbx token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(context.Background(), path, 50*time.Millisecond, "dbtdbx login")
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), "dbtdbx token (pid ") || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Acquire: %v, want a timeout naming the holder and the lock file", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Acquire(ctx, path, time.Minute, "dbtdbx token"); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a cancelled context: %v", err)
	}
	first.Release()
	first.Release()
	second, err := Acquire(context.Background(), path, time.Second, "dbtdbx login")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	second.Release()
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("lock directory: %v %v, want mode 0700", fi.Mode(), err)
	}
}

func TestLockDiesWithItsProcess(t *testing.T) {
	path := LockPath(t.TempDir(), "refresh", Key{Host: "https://h.example", ClientID: "c"})
	c := exec.Command(os.Args[0])
	c.Env = childEnv(nil, envChild+"=hold-lock", "DBTDBX_TOKEN_TEST_LOCK="+path)
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("child said %q", line)
	}
	if _, err := Acquire(context.Background(), path, 20*time.Millisecond, "test"); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Acquire while the child holds the lock: %v", err)
	}
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait()
	l, err := Acquire(context.Background(), path, 10*time.Second, "test")
	if err != nil {
		t.Fatalf("the lock of a killed process was not released: %v", err)
	}
	l.Release()
}
