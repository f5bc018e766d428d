//go:build windows

package cmd

import (
	"io"
	"os"
	"os/exec"
)

// forwardedSignals are passed on to exec's child. Windows delivers Ctrl-C to
// every process of the console itself.
var forwardedSignals = []os.Signal{}

func shouldForward(os.Signal, io.Reader) bool { return false }

func childExitCode(ee *exec.ExitError) int { return ee.ExitCode() }
