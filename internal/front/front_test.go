package front

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token/stored"
)

// DBTDBX_CORE names the core wherever it is; a core that is nowhere is an
// error that says what is missing.
func TestCore(t *testing.T) {
	if got, fromEnv, err := Core(func(k string) string { return map[string]string{EnvCore: "/opt/x/dbtdbx-core"}[k] }); err != nil || got != "/opt/x/dbtdbx-core" || !fromEnv {
		t.Errorf("with %s set: %q, %v, %v", EnvCore, got, fromEnv, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, _, err := Core(func(string) string { return "" }); !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "file does not exist") {
		// The test binary's directory holds no dbtdbx-core, and PATH is empty.
		t.Errorf("with no core anywhere: %v, want an error wrapping fs.ErrNotExist", err)
	}
}

// -o json prints the expiry in UTC, whatever zone the store holds it in.
func TestPrintJSONExpiryInUTC(t *testing.T) {
	e := &stored.Entry{AccessToken: "a", TokenType: "Bearer", Expiry: time.Date(2030, 1, 2, 8, 4, 5, 600, time.FixedZone("", 5*3600))}
	var out bytes.Buffer
	if err := Print(&out, e, "json"); err != nil {
		t.Fatal(err)
	}
	if want := `{"access_token":"a","token_type":"Bearer","expiry":"2030-01-02T03:04:05Z"}` + "\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// BenchmarkTokenCached is the front's `dbtdbx token --host H --storage file`
// on a valid stored token, in process: flag parsing, Resolve, the token
// file's read and the print, without the process start-up that
// scripts/bench.sh includes.
func BenchmarkTokenCached(b *testing.B) {
	const host = "https://adb-1234.5.azuredatabricks.net"
	cfg := b.TempDir()
	now := time.Now()
	f := &stored.File{Path: filepath.Join(cfg, "dbtdbx", "tokens.json")}
	if err := f.Save(&stored.Entry{Host: host, ClientID: config.DefaultClientID, Scopes: []string{"all-apis", "offline_access"},
		AccessToken: "cached-access-token", TokenType: "Bearer", RefreshToken: "r", Expiry: now.Add(time.Hour), Obtained: now,
		TokenURL: host + "/oidc/v1/token"}); err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{"XDG_CONFIG_HOME": cfg}
	env := config.Env{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, Dir: b.TempDir(), Home: b.TempDir()}
	args := []string{"token", "--host", host, "--storage", "file"}
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if code, served := Token(args, env, time.Now, &out, os.Stderr); !served || code != 0 || out.String() != "cached-access-token\n" {
			b.Fatalf("served %v, exit %d, stdout %q", served, code, out.String())
		}
	}
}

// The command is found among flags as the core finds it, for exec's exit
// code when the core cannot be run.
func TestIsExec(t *testing.T) {
	for args, want := range map[string]bool{
		"exec -- dbt run":                  true,
		"--host h exec -- true":            true,
		"-t prod --storage=file exec true": true,
		"exec":                             true,
		"token":                            false,
		"--host exec token":                false,
		"status exec":                      false,
		"":                                 false,
	} {
		if got := isExec(strings.Fields(args)); got != want {
			t.Errorf("isExec(%q) = %v, want %v", args, got, want)
		}
	}
}
