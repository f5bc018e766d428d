package cmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token"
)

// BenchmarkTokenCached is `dbtdbx token --host H --storage file` on a valid
// stored token, in process: the command tree, flag parsing, Resolve, the
// file store's read and the print, without the process start-up that
// scripts/bench.sh includes.
func BenchmarkTokenCached(b *testing.B) {
	const host = "https://adb-1234.5.azuredatabricks.net"
	cfg := b.TempDir()
	now := time.Now()
	f := &token.File{Path: filepath.Join(cfg, "dbtdbx", "tokens.json")}
	if err := f.Save(&token.Entry{Host: host, ClientID: config.DefaultClientID, Scopes: []string{"all-apis", "offline_access"},
		AccessToken: "cached-access-token", TokenType: "Bearer", RefreshToken: "r", Expiry: now.Add(time.Hour), Obtained: now,
		TokenURL: host + "/oidc/v1/token"}); err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{"XDG_CONFIG_HOME": cfg, "XDG_CACHE_HOME": b.TempDir()}
	env := config.Env{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, Dir: b.TempDir(), Home: b.TempDir()}
	args := []string{"token", "--host", host, "--storage", "file"}
	var out, errb bytes.Buffer
	for b.Loop() {
		out.Reset()
		errb.Reset()
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errb, env); code != 0 || out.String() != "cached-access-token\n" {
			b.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
		}
	}
}
