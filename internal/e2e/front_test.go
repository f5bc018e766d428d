package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

// noCore makes dbtdbx look for dbtdbx-core where there is none, and turns
// off the debug log the tests otherwise ask for (which the front leaves to
// the core): what then succeeds was served by the front alone.
func (w *world) noCore() []string {
	return []string{"DBTDBX_CORE=" + filepath.Join(w.home, "no-such-dbtdbx-core"), "DBTDBX_DEBUG="}
}

// A cached token is printed by dbtdbx itself, from the kernel keyring cache
// or the token file, without starting dbtdbx-core; a token that is due is
// left to dbtdbx-core, which refreshes it, and the next call prints the new
// one, again without the core.
func TestCachedTokenNeedsNoCore(t *testing.T) {
	t.Parallel()
	for _, storage := range []string{"keyring", "file"} {
		t.Run(storage, func(t *testing.T) {
			if storage == "keyring" && runtime.GOOS != "linux" {
				t.Skip("the kernel keyring cache is Linux's")
			}
			w := newWorld(t, oauthtest.Options{})
			w.flags = append(w.flags, "--storage", storage)
			w.fileStore = storage == "file"
			w.login()
			stored := w.stored().AccessToken
			for _, args := range [][]string{{"token"}, {"token", "-o", "header"}} {
				r := w.run(w.noCore(), args...)
				if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, stored) {
					t.Fatalf("dbtdbx %s without the core: exit %d, stderr %q; want the stored token", strings.Join(args, " "), r.code, r.stderr)
				}
			}

			// Due: the front hands over, and says so when DBTDBX_CORE names no core.
			w.makeDue()
			r := w.run(w.noCore(), "token")
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "DBTDBX_CORE: cannot run") || !strings.Contains(r.stderr, "path of dbtdbx-core") {
				t.Fatalf("a due token without the core: exit %d, stdout %q, stderr %q; want exit 1 saying DBTDBX_CORE names no dbtdbx-core", r.code, r.stdout, r.stderr)
			}
			fresh := w.token()
			if fresh == stored || !w.srv.TokenAccepted(t, fresh) {
				t.Fatal("the core did not refresh the due token")
			}
			if r := w.run(w.noCore(), "token"); r.code != 0 || r.stdout != fresh+"\n" {
				t.Errorf("after the refresh, without the core: exit %d, stderr %q; want the new token", r.code, r.stderr)
			}
		})
	}
}

// dbtdbx finds dbtdbx-core beside it, where a symbolic link to dbtdbx leads
// and beside that link, on PATH, and where DBTDBX_CORE says (a path, or a
// name on PATH); without one it says what to install and exits 1.
func TestFindingTheCore(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	alone := filepath.Join(w.home, "alone")
	linked := filepath.Join(w.home, "linked")
	beside := filepath.Join(w.home, "beside") // a link to alone/dbtdbx beside a dbtdbx-core
	copied := filepath.Join(w.home, "copied") // dbtdbx and a copy of it named dbtdbx-core
	// Two copies of dbtdbx, each the other's dbtdbx-core.
	x, y := filepath.Join(w.home, "x"), filepath.Join(w.home, "y")
	for _, dir := range []string{alone, linked, beside, copied, x, y} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(alone, "dbtdbx"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(linked, "dbtdbx")); err != nil {
		t.Fatal(err)
	}
	core := filepath.Join(filepath.Dir(binary), "dbtdbx-core")
	for _, l := range [][2]string{{filepath.Join(alone, "dbtdbx"), filepath.Join(beside, "dbtdbx")}, {core, filepath.Join(beside, "dbtdbx-core")}} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"dbtdbx", "dbtdbx-core"} {
		if err := os.WriteFile(filepath.Join(copied, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range [][2]string{{x, y}, {y, x}} {
		if err := os.WriteFile(filepath.Join(d[0], "dbtdbx"), b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(d[1], "dbtdbx"), filepath.Join(d[0], "dbtdbx-core")); err != nil {
			t.Fatal(err)
		}
	}
	run := func(bin string, extraEnv ...string) result {
		t.Helper()
		c := exec.Command(bin, "status")
		c.Env = w.environ(extraEnv...)
		c.Dir = w.dir
		var out, errb strings.Builder
		c.Stdout, c.Stderr = &out, &errb
		r := result{code: -1}
		if err := c.Run(); err == nil {
			r.code = 0
		} else if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		r.stdout, r.stderr = out.String(), errb.String()
		w.record(r.stdout)
		w.record(r.stderr)
		return r
	}
	if r := run(filepath.Join(linked, "dbtdbx")); r.code != 0 || !strings.Contains(r.stdout, w.host) {
		t.Errorf("dbtdbx through a symbolic link: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := run(filepath.Join(beside, "dbtdbx")); r.code != 0 || !strings.Contains(r.stdout, w.host) {
		t.Errorf("a link to dbtdbx beside dbtdbx-core: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r := run(filepath.Join(alone, "dbtdbx"))
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "dbtdbx-core") || !strings.Contains(r.stderr, "go install github.com/dbtdbx/dbtdbx@latest github.com/dbtdbx/dbtdbx/cmd/dbtdbx-core@latest") {
		t.Errorf("dbtdbx without dbtdbx-core: exit %d, stdout %q, stderr %q; want exit 1 saying how to install it", r.code, r.stdout, r.stderr)
	}
	if r := run(filepath.Join(alone, "dbtdbx"), "DBTDBX_CORE="+filepath.Join(alone, "dbtdbx")); r.code != 1 || !strings.Contains(r.stderr, "names this dbtdbx") {
		t.Errorf("DBTDBX_CORE naming dbtdbx itself: exit %d, stderr %q; want exit 1 saying so", r.code, r.stderr)
	}
	if r := run(filepath.Join(copied, "dbtdbx")); r.code != 1 || strings.Contains(r.stderr, "DBTDBX_CORE=") ||
		!strings.Contains(r.stderr, filepath.Join(copied, "dbtdbx-core")+" is a dbtdbx") {
		t.Errorf("dbtdbx beside a copy of itself named dbtdbx-core: exit %d, stderr %q; want exit 1 naming the copy, not DBTDBX_CORE", r.code, r.stderr)
	}
	// exec's own failures are 125, this one too.
	c := exec.Command(filepath.Join(alone, "dbtdbx"), "--storage", "file", "exec", "--", "true")
	c.Env = w.environ()
	if out, err := c.CombinedOutput(); c.ProcessState == nil || c.ProcessState.ExitCode() != 125 {
		t.Errorf("dbtdbx exec without dbtdbx-core: %v, %q; want exit 125", err, out)
	}
	// Two copies that would hand over to each other stop at the second.
	if r := run(filepath.Join(x, "dbtdbx")); r.code != 1 || !strings.Contains(r.stderr, "another dbtdbx ran it as its core") {
		t.Errorf("two copies of dbtdbx, each the other's dbtdbx-core: exit %d, stderr %q; want exit 1 saying so", r.code, r.stderr)
	}
	path := "PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + w.env["PATH"]
	if r := run(filepath.Join(alone, "dbtdbx"), path); r.code != 0 || !strings.Contains(r.stdout, w.host) {
		t.Errorf("dbtdbx with dbtdbx-core on PATH: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := run(filepath.Join(alone, "dbtdbx"), path, "DBTDBX_CORE=dbtdbx-core"); r.code != 0 || !strings.Contains(r.stdout, w.host) {
		t.Errorf("DBTDBX_CORE=dbtdbx-core, on PATH: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := run(filepath.Join(alone, "dbtdbx"), "DBTDBX_CORE=no-such-core"); r.code != 1 || !strings.Contains(r.stderr, "DBTDBX_CORE=no-such-core is not on PATH") {
		t.Errorf("DBTDBX_CORE naming nothing on PATH: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(filepath.Join(alone, "dbtdbx"), "DBTDBX_CORE="+filepath.Join(alone, "nothing")); r.code != 1 ||
		!strings.Contains(r.stderr, "DBTDBX_CORE: cannot run "+filepath.Join(alone, "nothing")) || !strings.Contains(r.stderr, "unset it") {
		t.Errorf("DBTDBX_CORE naming a missing file: exit %d, stderr %q; want exit 1 blaming DBTDBX_CORE", r.code, r.stderr)
	}
}

// dbtdbx tells dbtdbx-core its version: a pair from one build says nothing,
// a dbtdbx of another release gets a warning on every command it hands
// over, and the command still runs.
func TestMismatchedPairWarns(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	if r := w.run(nil, "version"); r.code != 0 || r.stderr != "" {
		t.Errorf("version from one build: exit %d, stderr %q; want no warning", r.code, r.stderr)
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-ldflags=-X github.com/dbtdbx/dbtdbx/internal/version.Version=v0.0.1-other",
		"-o", filepath.Join(dir, "dbtdbx"), "github.com/dbtdbx/dbtdbx")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a dbtdbx of another version: %v\n%s", err, out)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(binary), "dbtdbx-core"), filepath.Join(dir, "dbtdbx-core")); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(filepath.Join(dir, "dbtdbx"), "version")
	c.Env = w.environ()
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	w.record(out.String())
	w.record(errb.String())
	if err != nil || out.String() != "dbtdbx dev\n" ||
		!strings.Contains(errb.String(), "warning: dbtdbx is v0.0.1-other but dbtdbx-core is dev: install both from the same release") {
		t.Errorf("version from a dbtdbx of another release: %v, stdout %q, stderr %q; want the core's version and a warning", err, out.String(), errb.String())
	}
}
