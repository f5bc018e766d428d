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
	"strings"

	"github.com/dbtdbx/dbtdbx/internal/version"
)

// CoreName is the binary that runs every command the front does not serve.
const CoreName = "dbtdbx-core"

// EnvCore names the core binary to run, for an install that keeps it away
// from dbtdbx.
const EnvCore = "DBTDBX_CORE"

// ExitExecFailed is the exit code of `dbtdbx exec` when dbtdbx fails before
// starting the command, the front's failure to run the core included.
const ExitExecFailed = 125

// InstallHint is the command that installs both binaries with Go.
const InstallHint = "go install github.com/dbtdbx/dbtdbx@latest github.com/dbtdbx/dbtdbx/cmd/dbtdbx-core@latest"

// Core finds the core binary: EnvCore when set (a bare name is looked up on
// PATH; fromEnv is then true), else CoreName in the directory of this
// executable, in the directory a symbolic link to it leads to, in the
// directory of the path it was run as (a symbolic link's own), else on PATH.
// A core that is this executable would hand over to itself for ever, and
// is an error; so is being run as the core by another dbtdbx (EnvFront is
// set), which two copies of dbtdbx, each the other's core, would do for
// ever. An error that wraps fs.ErrNotExist means no core was found.
func Core(getenv func(string) string) (path string, fromEnv bool, err error) {
	if getenv(version.EnvFront) != "" {
		// Another dbtdbx handed this one a command as its core: this is a
		// copy of dbtdbx (or a link to one) named dbtdbx-core, and would
		// hand it on again, perhaps to the first, for ever.
		self, _ := os.Executable()
		return "", false, missing(fmt.Sprintf("%s is a dbtdbx (a copy of it, or a link to one), not %s: another dbtdbx ran it as its core", self, CoreName))
	}
	if p := getenv(EnvCore); p != "" {
		if filepath.Base(p) == p {
			lp, err := exec.LookPath(p)
			if errors.Is(err, exec.ErrDot) {
				return "", true, missing(fmt.Sprintf("%s=%s is found on PATH only through a relative entry ('.' or empty), which dbtdbx does not run from", EnvCore, p))
			}
			if err != nil {
				return "", true, missing(fmt.Sprintf("%s=%s is not on PATH", EnvCore, p))
			}
			p = lp
		}
		if isSelf(p) {
			return "", true, fmt.Errorf("%s=%s names this dbtdbx, not %s", EnvCore, p, CoreName)
		}
		return p, true, nil
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
			return "", false, missing(fmt.Sprintf("%s is a dbtdbx (a copy of it, or a link to one), not %s", p, CoreName))
		}
		return p, false, nil
	}
	p, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		return "", false, missing(CoreName + " is neither next to this dbtdbx nor on PATH but through a relative entry of PATH ('.' or empty), which dbtdbx does not run from")
	}
	if err != nil {
		return "", false, missing(CoreName + ", which runs every dbtdbx command but a cached token, is neither next to this dbtdbx nor on PATH")
	}
	if isSelf(p) {
		return "", false, missing(fmt.Sprintf("%s on PATH is a dbtdbx (a copy of it, or a link to one), not %s", p, CoreName))
	}
	return p, false, nil
}

// missing is an error that says which core is missing, and wraps
// fs.ErrNotExist without adding its text.
type missing string

func (e missing) Error() string        { return string(e) }
func (e missing) Is(target error) bool { return target == fs.ErrNotExist }

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
// When the core cannot be run, it exits 1, or 125 for `dbtdbx exec`, whose
// own failures must not look like its command's.
func HandOver(args []string, getenv func(string) string, stderr io.Writer) int {
	core, fromEnv, err := Core(getenv)
	var exit *exec.ExitError
	if err == nil {
		if err = run(core, args); err != nil && fromEnv && !errors.As(err, &exit) {
			err = fmt.Errorf("%s: %w", EnvCore, err)
		}
	}
	switch {
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	case err != nil:
		fmt.Fprintf(stderr, "dbtdbx: %v\n", err)
		switch {
		case fromEnv:
			fmt.Fprintf(stderr, "  Set %s to the path of dbtdbx-core, or unset it to use the one beside dbtdbx.\n", EnvCore)
		case errors.Is(err, fs.ErrPermission):
			fmt.Fprintf(stderr, "  Make it executable (chmod +x %s), or install dbtdbx-core again (%s).\n", core, InstallHint)
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(stderr, "  Install dbtdbx-core beside dbtdbx: it comes with dbtdbx in every release archive, the Homebrew cask\n"+
				"  and the Scoop package; with Go: %s\n  Or set %s to its path.\n", InstallHint, EnvCore)
		}
		if isExec(args) {
			return ExitExecFailed
		}
		return 1
	}
	return 0
}

// isExec reports whether args run `dbtdbx exec`, as the core would find the
// command among the flags it knows.
func isExec(args []string) bool {
	fs := flagSet(&options{})
	fs.ParseErrorsAllowlist.UnknownFlags = true
	return fs.Parse(args) == nil && fs.Arg(0) == "exec"
}

// coreEnv is this process's environment with this dbtdbx's version, which
// the core compares with its own.
func coreEnv() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, version.EnvFront+"=") })
	return append(env, version.EnvFront+"="+version.String())
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
