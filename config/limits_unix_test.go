//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hostileProject writes a dbt project whose profiles.yml is made by
// profiles, and resolves it.
func hostileProject(t *testing.T, profiles func(path string)) error {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dbt_project.yml"), []byte("name: p\nprofile: p\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	profiles(filepath.Join(dir, "profiles.yml"))
	e := Env{LookupEnv: func(string) (string, bool) { return "", false }, Dir: dir, Home: t.TempDir()}
	_, err := Resolve(Flags{}, e)
	return err
}

func writeProfiles(t *testing.T, host string) func(string) {
	return func(path string) {
		content := "p:\n  target: dev\n  outputs:\n    dev:\n      type: databricks\n      auth_type: oauth\n      host: \"" + host + "\"\n"
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Profiles that would crash or hang the process get an error instead.
func TestHostileProfiles(t *testing.T) {
	cases := []struct {
		name     string
		profiles func(path string)
		mention  string
	}{
		{"recursive macro", writeProfiles(t, "{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}"), "macro"},
		{"loop", writeProfiles(t, "{% for c in 'abc' %}{% endfor %}h.example"), "for"},
		{"a FIFO", func(path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
		}, "not a regular file"},
		{"a device", func(path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"a huge file", func(path string) {
			if err := os.WriteFile(path, []byte("# "+strings.Repeat("x", maxYAMLSize)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := hostileProject(t, c.profiles)
			if err == nil || !strings.Contains(err.Error(), c.mention) {
				t.Errorf("err = %v, want one mentioning %q", err, c.mention)
			}
		})
	}
}
