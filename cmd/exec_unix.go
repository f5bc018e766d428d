//go:build !windows

package cmd

import (
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/term"
)

// forwardedSignals are passed on to exec's child.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// shouldForward reports whether sig must be passed to the child. A terminal
// sends Ctrl-C and Ctrl-\ to the whole foreground process group, child
// included, so those are not sent a second time when stdin is a terminal.
func shouldForward(sig os.Signal, stdin io.Reader) bool {
	if sig == syscall.SIGINT || sig == syscall.SIGQUIT {
		if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return false
		}
	}
	return true
}

// childExitCode is the child's exit code, or 128+n when signal n killed it.
func childExitCode(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}
