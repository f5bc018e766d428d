package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token"
)

const (
	host     = "https://adb-1234.5.azuredatabricks.net"
	clientID = "dbt-databricks"
)

// fakeEnv is an environment with only vars in it.
func fakeEnv(dir, home string, vars map[string]string) config.Env {
	return config.Env{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Dir:       dir,
		Home:      home,
	}
}

// exampleProject copies the repository's example dbt project (whose profile
// reads the host and client through env_var and lowers $USER) into a
// temporary directory.
func exampleProject(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	for _, name := range []string{"dbt_project.yml", "profiles.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "example", name))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func BenchmarkResolveHost(b *testing.B) {
	env := fakeEnv(b.TempDir(), b.TempDir(), nil)
	f := config.Flags{Host: host}
	for b.Loop() {
		if _, err := config.Resolve(f, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveProject(b *testing.B) {
	env := fakeEnv(exampleProject(b), b.TempDir(), map[string]string{
		"DBT_DATABRICKS_HOST":      host,
		"DBT_DATABRICKS_CLIENT_ID": clientID,
		"USER":                     "Bench",
	})
	for b.Loop() {
		t, err := config.Resolve(config.Flags{}, env)
		if err != nil {
			b.Fatal(err)
		}
		if t.Host != host {
			b.Fatalf("resolved host %q", t.Host)
		}
	}
}

func entry() *token.Entry {
	now := time.Now()
	return &token.Entry{
		Host: host, ClientID: clientID, Scopes: []string{"all-apis", "offline_access"},
		AccessToken: "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + strings.Repeat("eyJzdWIiOiJiZW5jaCJ9", 45), TokenType: "Bearer",
		RefreshToken: "doau-0123456789abcdef", Expiry: now.Add(time.Hour), Obtained: now,
		TokenURL: host + "/oidc/v1/token",
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := entry().Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := token.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileLoad(b *testing.B) {
	f := &token.File{Path: filepath.Join(b.TempDir(), "dbtdbx", "tokens.json")}
	e := entry()
	if err := f.Save(e); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.Load(e.Key()); err != nil {
			b.Fatal(err)
		}
	}
}
