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
	"slices"
)

// CoreName is the binary that runs every command the front does not serve.
const CoreName = "dbtdbx-core"

// EnvCore names the core binary to run, for an install that keeps it away
// from dbtdbx.
const EnvCore = "DBTDBX_CORE"

// InstallHint is the command that installs both binaries with Go.
const InstallHint = "go install github.com/dbtdbx/dbtdbx@latest github.com/dbtdbx/dbtdbx/cmd/dbtdbx-core@latest"

// Core finds the core binary: EnvCore when set (a bare name is looked up on
// PATH), else CoreName in the directory of this executable, in the directory
// a symbolic link to it leads to, in the directory of the path it was run as
// (a symbolic link's own), else on PATH. A core that is this executable
// would hand over to itself for ever, and is an error.
func Core(getenv func(string) string) (string, error) {
	if p := getenv(EnvCore); p != "" {
		if filepath.Base(p) == p {
			lp, err := exec.LookPath(p)
			if err != nil {
				return "", fmt.Errorf("%s=%s is not on PATH: %w", EnvCore, p, fs.ErrNotExist)
			}
			p = lp
		}
		if isSelf(p) {
			return "", fmt.Errorf("%s=%s names this dbtdbx, not %s: set it to dbtdbx-core's path, or unset it", EnvCore, p, CoreName)
		}
		return p, nil
	}
	name := CoreName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	for _, dir := range ownDirs() {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if isSelf(p) {
			return "", fmt.Errorf("%s is this dbtdbx (a copy of it, or a link to it), not %s: %w", p, CoreName, fs.ErrNotExist)
		}
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s, which runs every dbtdbx command but a cached token, is neither next to this dbtdbx nor on PATH: %w", CoreName, fs.ErrNotExist)
	}
	if isSelf(p) {
		return "", fmt.Errorf("%s on PATH is this dbtdbx (a copy of it, or a link to it), not %s: %w", p, CoreName, fs.ErrNotExist)
	}
	return p, nil
}

// ownDirs returns the directories this executable may have been installed
// in, without repeats: its own as the system reports it, the one a symbolic
// link to it leads to, and the one of the path it was run as.
func ownDirs() []string {
	var dirs []string
	add := func(p string) {
		if p == "" {
			return
		}
		if abs, err := filepath.Abs(p); err == nil && !slices.Contains(dirs, filepath.Dir(abs)) {
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	if exe, err := os.Executable(); err == nil {
		add(exe)
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			add(real)
		}
	}
	if len(os.Args) > 0 {
		if arg0 := os.Args[0]; filepath.Base(arg0) != arg0 {
			add(arg0)
		} else if p, err := exec.LookPath(arg0); err == nil {
			add(p)
		}
	}
	return dirs
}

// HandOver runs the core with args (without the program name) in place of
// this process where the system can, else as a child whose exit code it
// returns. It returns only on failure, or with the child's exit code.
func HandOver(args []string, getenv func(string) string, stderr io.Writer) int {
	core, err := Core(getenv)
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
