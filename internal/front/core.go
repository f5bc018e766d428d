package front

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// CoreName is the binary that runs every command the front does not serve.
const CoreName = "dbtdbx-core"

// EnvCore names the core binary to run, for an install that keeps it away
// from dbtdbx.
const EnvCore = "DBTDBX_CORE"

// InstallHint is the command that installs both binaries with Go.
const InstallHint = "go install github.com/dbtdbx/dbtdbx@latest github.com/dbtdbx/dbtdbx/cmd/dbtdbx-core@latest"

// Core finds the core binary: EnvCore when set, else CoreName in the
// directory of this executable (as installed there, or where a symbolic link
// to it leads), else on PATH.
func Core(getenv func(string) string) (string, error) {
	if p := getenv(EnvCore); p != "" {
		return p, nil
	}
	name := CoreName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		dirs := []string{filepath.Dir(exe)}
		if real, err := filepath.EvalSymlinks(exe); err == nil && filepath.Dir(real) != dirs[0] {
			dirs = append(dirs, filepath.Dir(real))
		}
		for _, dir := range dirs {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s, which runs every dbtdbx command but a cached token, is neither next to this dbtdbx nor on PATH: %w", CoreName, fs.ErrNotExist)
}

// HandOver runs the core with args (without the program name) in place of
// this process where the system can, else as a child whose exit code it
// returns. It returns only on failure, or with the child's exit code.
func HandOver(args []string, getenv func(string) string, stderr io.Writer) int {
	core, err := Core(getenv)
	if err == nil && isSelf(core) {
		err = fmt.Errorf("%s=%s names this dbtdbx, not %s: set it to dbtdbx-core's path, or unset it", EnvCore, core, CoreName)
	}
	if err == nil {
		err = run(core, args)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	case err != nil:
		fmt.Fprintf(stderr, "dbtdbx: %v\n", err)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "  Install it beside dbtdbx (%s), or set %s to its path.\n", InstallHint, EnvCore)
		}
		return 1
	}
	return 0
}

// isSelf reports whether path is this executable, which would hand over to
// itself for ever.
func isSelf(path string) bool {
	exe, err := os.Executable()
	if err != nil {
		return false
	}
	a, err := os.Stat(exe)
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
