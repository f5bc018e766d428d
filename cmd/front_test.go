package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/internal/front"
	"github.com/dbtdbx/dbtdbx/token"
)

// The front parses `dbtdbx token` with flags of its own: each must be the
// core's flag of the same name, shorthand, type and default, and every flag
// the core's token command takes must be known to the front, or the front
// would hand the command over for nothing.
func TestFrontFlagsAreTheCoreTokenFlags(t *testing.T) {
	root := newRoot(&globals{}, []string{"token"})
	c, _, err := root.Find([]string{"token"})
	if err != nil {
		t.Fatal(err)
	}
	core := pflag.NewFlagSet("core", pflag.ContinueOnError)
	core.AddFlagSet(c.LocalNonPersistentFlags())
	core.AddFlagSet(root.PersistentFlags())
	fr := front.FlagSet()
	fr.VisitAll(func(f *pflag.Flag) {
		cf := core.Lookup(f.Name)
		switch {
		case cf == nil:
			t.Errorf("the front's --%s is no flag of dbtdbx token", f.Name)
		case cf.Shorthand != f.Shorthand || cf.Value.Type() != f.Value.Type() || cf.DefValue != f.DefValue:
			t.Errorf("--%s: the front has -%q %s default %q, the core -%q %s default %q",
				f.Name, f.Shorthand, f.Value.Type(), f.DefValue, cf.Shorthand, cf.Value.Type(), cf.DefValue)
		}
	})
	core.VisitAll(func(cf *pflag.Flag) {
		if cf.Name != "help" && cf.Name != "version" && fr.Lookup(cf.Name) == nil {
			t.Errorf("dbtdbx token --%s is unknown to the front, which would hand every call with it to the core", cf.Name)
		}
	})
}

const frontHost = "https://adb-1234.5.azuredatabricks.net"

// frontWorld is a user's config directory with a stored login, and a copy of
// the example dbt project whose profile names the same workspace.
type frontWorld struct {
	cfg, project, home string
	env                map[string]string
	entry              *token.Entry
}

func newFrontWorld(t *testing.T, left time.Duration) *frontWorld {
	t.Helper()
	w := &frontWorld{cfg: t.TempDir(), project: t.TempDir(), home: t.TempDir()}
	for _, name := range []string{"dbt_project.yml", "profiles.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "example", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(w.project, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w.env = map[string]string{"XDG_CONFIG_HOME": w.cfg, "DBT_DATABRICKS_HOST": "adb-1234.5.azuredatabricks.net",
		// No session bus: should the core try the keyring, it fails at once.
		"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(w.cfg, "no-bus")}
	now := time.Now().UTC().Truncate(time.Second)
	w.entry = &token.Entry{Host: frontHost, ClientID: config.DefaultClientID, Scopes: []string{"all-apis", "offline_access"},
		AccessToken: "at-front-" + strings.Repeat("x", 700), TokenType: "Bearer", RefreshToken: "rt-front-secret",
		Obtained: now.Add(left - time.Hour), Expiry: now.Add(left), TokenURL: "http://127.0.0.1:9/oidc/v1/token"}
	path, err := token.DefaultFilePath(w.getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&token.File{Path: path}).Save(w.entry); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *frontWorld) getenv(k string) string { return w.env[k] }

func (w *frontWorld) configEnv(dir string) config.Env {
	return config.Env{LookupEnv: func(k string) (string, bool) { v, ok := w.env[k]; return v, ok }, Dir: dir, Home: w.home}
}

func (w *frontWorld) tokenFile(t *testing.T) string {
	t.Helper()
	path, err := token.DefaultFilePath(w.getenv)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// front runs the front in dir; served says whether it printed the token.
func (w *frontWorld) front(dir string, args ...string) (code int, served bool, stdout, stderr string) {
	var out, errb bytes.Buffer
	code, served = front.Token(args, w.configEnv(dir), time.Now, &out, &errb)
	return code, served, out.String(), errb.String()
}

func (w *frontWorld) core(dir string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, w.configEnv(dir))
	return code, out.String(), errb.String()
}

// Where the front prints a cached token, it prints what the core prints, byte
// for byte, with the same exit code and nothing on stderr.
func TestFrontPrintsWhatTheCorePrints(t *testing.T) {
	for _, c := range []struct {
		name      string
		inProject bool
		env       map[string]string
		settings  string
		args      []string
	}{
		{name: "--host, text", args: []string{"token", "--host", frontHost, "--storage", "file"}},
		{name: "json", args: []string{"token", "--host", frontHost, "--storage", "file", "-o", "json"}},
		{name: "header", args: []string{"token", "--host", frontHost, "--storage=file", "--output=header"}},
		{name: "flags before the command", args: []string{"--host", frontHost, "--storage", "file", "-o", "json", "token"}},
		{name: "host without scheme, client id given", args: []string{"token", "--host", "adb-1234.5.azuredatabricks.net", "--client-id", "dbt-databricks", "--storage", "file"}},
		{name: "DBTDBX_DEBUG off", env: map[string]string{"DBTDBX_DEBUG": "0", "DBTDBX_STORAGE": "file"}, args: []string{"token", "--host", frontHost}},
		{name: "storage from the environment", env: map[string]string{"DBTDBX_STORAGE": "file"}, args: []string{"token", "--host", frontHost}},
		{name: "settings.json says file", settings: `{"version":1,"storage":"file"}`, args: []string{"token", "--host", frontHost}},
		{name: "in the dbt project", inProject: true, args: []string{"token", "--storage", "file"}},
		{name: "in the dbt project, target named", inProject: true, args: []string{"token", "-t", "dev", "--storage", "file", "--min-ttl", "10m"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newFrontWorld(t, 50*time.Minute)
			for k, v := range c.env {
				w.env[k] = v
			}
			if c.settings != "" {
				if err := os.WriteFile(filepath.Join(filepath.Dir(w.tokenFile(t)), "settings.json"), []byte(c.settings), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := w.home
			if c.inProject {
				dir = w.project
			}
			code, served, out, errOut := w.front(dir, c.args...)
			if !served {
				t.Fatalf("the front handed dbtdbx %s over", strings.Join(c.args, " "))
			}
			coreCode, coreOut, coreErr := w.core(dir, c.args...)
			if coreCode != 0 || coreErr != "" {
				t.Fatalf("core: exit %d, stderr %q", coreCode, coreErr)
			}
			if code != coreCode || out != coreOut || errOut != "" {
				t.Errorf("front: exit %d, stdout %q, stderr %q; the core: exit %d, stdout %q", code, out, errOut, coreCode, coreOut)
			}
			if !strings.Contains(out, w.entry.AccessToken) || strings.Contains(out, w.entry.RefreshToken) {
				t.Errorf("front stdout %q: want the access token and never the refresh token", out)
			}
		})
	}
}

// Whatever the front is not sure to do as the core would, it leaves to the
// core, having written nothing.
func TestFrontHandsOverWhatIsNotACachedToken(t *testing.T) {
	host := []string{"token", "--host", frontHost, "--storage", "file"}
	with := func(extra ...string) []string { return append(append([]string(nil), host...), extra...) }
	for _, c := range []struct {
		name      string
		left      time.Duration // of the stored token; 0 means 50 minutes
		inProject bool
		env       map[string]string
		prepare   func(t *testing.T, w *frontWorld)
		args      []string
	}{
		{name: "no arguments"},
		{name: "another command", args: []string{"status", "--host", frontHost, "--storage", "file"}},
		{name: "help", args: with("--help")},
		{name: "-h", args: with("-h")},
		{name: "version flag", args: with("--version")},
		{name: "unknown flag", args: with("--nope")},
		{name: "an argument", args: with("extra")},
		{name: "double dash", args: with("--")},
		{name: "token twice", args: []string{"token", "token", "--host", frontHost, "--storage", "file"}},
		{name: "--refresh", args: with("--refresh")},
		{name: "--debug", args: with("--debug")},
		{name: "DBTDBX_DEBUG", env: map[string]string{"DBTDBX_DEBUG": "1"}, args: host},
		{name: "DBTDBX_DEBUG spelled true", env: map[string]string{"DBTDBX_DEBUG": "True"}, args: host},
		{name: "min-ttl zero", args: with("--min-ttl", "0s")},
		{name: "bad output", args: with("-o", "xml")},
		{name: "http-timeout zero", args: with("--http-timeout", "0s")},
		{name: "lock-timeout negative", args: with("--lock-timeout=-1s")},
		{name: "storage none", args: []string{"token", "--host", frontHost, "--storage", "none"}},
		{name: "storage unknown", args: []string{"token", "--host", frontHost, "--storage", "vault"}},
		{name: "storage keyring, cache off", env: map[string]string{"DBTDBX_KEYRING_CACHE": "off"}, args: []string{"token", "--host", frontHost, "--storage", "keyring"}},
		{name: "bad keyring timeout", env: map[string]string{"DBTDBX_KEYRING_TIMEOUT": "soon"}, args: []string{"token", "--host", frontHost},
			prepare: func(t *testing.T, w *frontWorld) {
				if err := os.WriteFile(filepath.Join(filepath.Dir(w.tokenFile(t)), "settings.json"), []byte(`{"version":1,"storage":"file"}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "due", left: 4 * time.Minute, args: host},
		{name: "due for the min-ttl asked", left: 20 * time.Minute, args: with("--min-ttl", "25m")},
		{name: "scope not granted", args: with("--scopes", "sql")},
		{name: "another client", args: with("--client-id", "other")},
		{name: "no host", args: []string{"token", "--storage", "file"}},
		{name: "bad host", args: []string{"token", "--host", "ftp://x", "--storage", "file"}},
		{name: "personal access token in the profile", inProject: true, args: []string{"token", "--storage", "file"},
			prepare: func(t *testing.T, w *frontWorld) {
				path := filepath.Join(w.project, "profiles.yml")
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				b = []byte(strings.Replace(string(b), `token: "{{ env_var('DATABRICKS_TOKEN', '') }}"`, "token: dapi-profile-token", 1))
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a warning to print", env: map[string]string{"DATABRICKS_CLIENT_SECRET": "sp-secret"}, args: host},
		{name: "service principal", env: map[string]string{"DATABRICKS_CLIENT_ID": "dbt-databricks", "DATABRICKS_CLIENT_SECRET": "sp-secret"}, args: host},
		{name: "unreadable token file", args: host, prepare: func(t *testing.T, w *frontWorld) {
			if err := os.WriteFile(w.tokenFile(t), []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "token file open to others", args: host, prepare: func(t *testing.T, w *frontWorld) {
			if err := os.Chmod(w.tokenFile(t), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "stored token with a space", args: host, prepare: func(t *testing.T, w *frontWorld) {
			e := *w.entry
			e.AccessToken = "two words"
			if err := (&token.File{Path: w.tokenFile(t)}).Save(&e); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			left := c.left
			if left == 0 {
				left = 50 * time.Minute
			}
			w := newFrontWorld(t, left)
			for k, v := range c.env {
				w.env[k] = v
			}
			if c.prepare != nil {
				c.prepare(t, w)
			}
			dir := w.home
			if c.inProject {
				dir = w.project
			}
			if _, served, out, errOut := w.front(dir, c.args...); served || out != "" || errOut != "" {
				t.Errorf("dbtdbx %s: the front served it (stdout %q, stderr %q); want it handed to the core", strings.Join(c.args, " "), out, errOut)
			}
		})
	}
}

// Reading a profile may take seconds (its Jinja is given up to five a value):
// a token that becomes due meanwhile is judged by the time the profile has
// been read, and left to the core to refresh, not printed.
func TestFrontJudgesTheTokenWhenTheProfileHasBeenRead(t *testing.T) {
	w := newFrontWorld(t, 50*time.Minute)
	env := w.configEnv(w.project)
	lookup, rendered := env.LookupEnv, false
	env.LookupEnv = func(k string) (string, bool) {
		if k == "DBT_DATABRICKS_HOST" { // read by the profile's env_var()
			rendered = true
		}
		return lookup(k)
	}
	start := time.Now()
	clock := func() time.Time {
		if rendered {
			return start.Add(time.Hour) // the rendering took an hour
		}
		return start
	}
	var out, errb bytes.Buffer
	if code, served := front.Token([]string{"token", "--storage", "file"}, env, clock, &out, &errb); served {
		t.Fatalf("the front printed a token due by the time the profile was read (exit %d, %d bytes)", code, out.Len())
	}
	if !rendered {
		t.Fatal("the profile's env_var() was not read: the test proves nothing")
	}
	// The same call with a clock that stays put is served, so the hand-over
	// above is the clock's doing.
	if _, served := front.Token([]string{"token", "--storage", "file"}, w.configEnv(w.project), func() time.Time { return start }, &out, &errb); !served {
		t.Fatal("a token with 50 minutes left was not served")
	}
}
