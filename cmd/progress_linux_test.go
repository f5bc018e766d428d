package cmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns both ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

func TestWaitingSpinsOnATerminal(t *testing.T) {
	master, tty := openPTY(t)
	// Commands write to stderr through the lock that shares it.
	w := startWaiting(&lockedWriter{w: tty}, time.Now().Add(5*time.Minute), false)
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "left") {
		n, err := master.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		seen.Write(buf[:n])
	}
	w.Stop()
	if got := seen.String(); !strings.Contains(got, "\r") || !regexp.MustCompile(`\r\| waiting for the browser, (5m0s|4m5\ds) left`).MatchString(got) || strings.Contains(got, "\033[36m") {
		t.Errorf("terminal display without colour: %q", got)
	}
}
