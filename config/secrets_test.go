package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No message quotes a value the profile rendered from env_var(): not the
// errors about the field, nor the engine's, nor env_var's own when a name
// is computed from a value, nor the warnings.
func TestErrorsDoNotQuoteVariables(t *testing.T) {
	const secret = "S3cr3tV4lue-xyz"
	vars := map[string]string{
		"SECRETX": secret,
		"SECRETQ": "S3cr3tV4lue\"xyz",
		"SECRETH": "s3cr3tv4lue.example",
		"SECRETJ": `{"S3cr3tV4lue": `,
		// A value that is a valid variable name, so that a name made from
		// it, however transformed, could be quoted.
		"SECRETN": "S3cr3tV4lue42",
	}
	base := map[string]string{"type": "databricks", "host": "h.example", "auth_type": "oauth"}
	cases := []struct {
		name   string
		fields map[string]string
		flags  Flags
		// mention holds what the error must say.
		mention []string
		warn    bool // a warning, not an error
	}{
		{"host", map[string]string{"host": "{{ env_var('SECRETX') }} x"}, Flags{}, []string{"host of target dev in ", "profiles.yml:", "(from env_var('SECRETX'))", "is not a valid workspace host"}, false},
		{"host port", map[string]string{"host": "https://{{ env_var('SECRETH') }}:99999"}, Flags{}, []string{"env_var('SECRETH')", "invalid port"}, false},
		{"host scheme", map[string]string{"host": "ftp://{{ env_var('SECRETH') }}"}, Flags{}, []string{"env_var('SECRETH')", "https"}, false},
		{"host user", map[string]string{"host": "https://{{ env_var('SECRETX') }}@h.example"}, Flags{}, []string{"env_var('SECRETX')", "user name"}, false},
		{"client_id", map[string]string{"client_id": "{{ env_var('SECRETX') }} x"}, Flags{}, []string{"client_id of target dev", "(from env_var('SECRETX'))", "is not a valid client id: it must be one word"}, false},
		{"scopes", map[string]string{"oauth_scopes": "{{ env_var('SECRETQ') }}"}, Flags{}, []string{"oauth_scopes of target dev", "env_var('SECRETQ')", "not a valid OAuth scope"}, false},
		{"redirect", map[string]string{"oauth_redirect_url": "http://{{ env_var('SECRETH') }}:8020"}, Flags{}, []string{"oauth_redirect_url of target dev", "env_var('SECRETH')", "this machine"}, false},
		{"type", map[string]string{"type": "{{ env_var('SECRETX') }}"}, Flags{}, []string{"type other than databricks", "env_var('SECRETX')"}, false},
		{"auth_type", map[string]string{"auth_type": "{{ env_var('SECRETX') }}"}, Flags{}, []string{"auth_type (from env_var('SECRETX')) is not oauth"}, false},
		{"computed name", map[string]string{"host": "{{ env_var(env_var('SECRETX')) }}"}, Flags{}, []string{"env_var() was given a name computed from another variable's value"}, false},
		{"computed var name", map[string]string{"host": "{{ var(env_var('SECRETX')) }}"}, Flags{}, []string{"var() with a name computed"}, false},
		{"transformed name", map[string]string{"host": "{{ env_var(env_var('SECRETN') | lower) }}"}, Flags{}, []string{"env_var() was given a name computed from another variable's value"}, false},
		{"sliced name", map[string]string{"host": "{{ env_var(env_var('SECRETN')[1:]) }}"}, Flags{}, []string{"env_var() was given a name computed from another variable's value"}, false},
		{"transformed var name", map[string]string{"host": "{{ var(env_var('SECRETN') | upper) }}"}, Flags{}, []string{"var() with a name computed"}, false},
		{"guessed name", map[string]string{"host": "{{ env_var(env_var('SECRETN')[:9]) }}{{ 'S3cr3tV4l' if false }}"}, Flags{}, []string{"env_var() was given a name computed from another variable's value"}, false},
		{"guessed name, in another case", map[string]string{"host": "{{ env_var(env_var('SECRETN') | upper) }}{{ 'S3CR3TV4LUE42' if false }}"}, Flags{}, []string{"env_var() was given a name computed from another variable's value"}, false},
		{"computed name, extra argument", map[string]string{"host": "{{ env_var(env_var('SECRETX'), 'a', 'b') }}"}, Flags{}, []string{"env_var() with a name computed"}, false},
		{"from_json", map[string]string{"host": "{{ env_var('SECRETX') | from_json }}"}, Flags{}, []string{"host: its Jinja does not render"}, false},
		{"from_json slice", map[string]string{"host": "{{ env_var('SECRETJ')[2:4] | from_json }}"}, Flags{}, []string{"host: its Jinja does not render"}, false},
		{"engine error", map[string]string{"host": "{{ env_var('SECRETX') | as_number }}"}, Flags{}, []string{"host: its Jinja does not render"}, false},
		{"host warning", map[string]string{"host": "{{ env_var('SECRETH') }}"}, Flags{Host: "other.example"}, []string{"the host of env_var('SECRETH')"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fields := map[string]string{}
			for k, v := range base {
				fields[k] = v
			}
			for k, v := range c.fields {
				fields[k] = v
			}
			var b strings.Builder
			b.WriteString("p:\n  target: dev\n  outputs:\n    dev:\n")
			for k, v := range fields {
				b.WriteString("      " + k + ": '" + strings.ReplaceAll(v, "'", "''") + "'\n")
			}
			for name, content := range map[string]string{"dbt_project.yml": "name: p\nprofile: p\n", "profiles.yml": b.String()} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			e := Env{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, Dir: dir, Home: t.TempDir()}
			tg, err := Resolve(c.flags, e)
			var msg string
			switch {
			case c.warn && err != nil:
				t.Fatalf("Resolve: %v", err)
			case c.warn:
				msg = strings.Join(tg.Warnings, "\n")
			case err == nil:
				t.Fatalf("Resolve succeeded, want an error")
			default:
				msg = err.Error()
			}
			for _, s := range []string{secret, "s3cr3t", "3cr3t", "v4lue"} {
				if strings.Contains(strings.ToLower(msg), s) {
					t.Errorf("message quotes the variable's value: %s", msg)
				}
			}
			for _, m := range c.mention {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q does not mention %q", msg, m)
				}
			}
		})
	}
}

// from_json's error is the engine's without encoding/json's, which quotes
// the character it stumbled on.
func TestFromJSONError(t *testing.T) {
	r := &renderer{env: env(map[string]string{"SECRETX": "S3cr3tV4lue-xyz", "J": "[1, 2"})}
	for _, src := range []string{
		"{{ env_var('SECRETX') | from_json }}",
		"{{ env_var('SECRETX') | fromjson }}",
		"{{ env_var('SECRETX')[3:4] | from_json }}",
		"{% if true %}{{ env_var('J') | from_json }}{% endif %}",
	} {
		_, err := r.render(src)
		if err == nil || err.Error() != "Jinja: from_json: the value is not JSON" {
			t.Errorf("render(%q) error = %v, want from_json's own", src, err)
		}
	}
}

// A profile or target name rendered from env_var() that profiles.yml does
// not have is not quoted.
func TestMissingNamesNotQuoted(t *testing.T) {
	const secret = "S3cr3tV4lue-xyz"
	for name, c := range map[string]struct{ project, profiles, mention string }{
		"profile": {"name: p\nprofile: \"{{ env_var('SECRETX') }}\"\n", "p:\n  outputs:\n    dev: {type: databricks}\n", "the profile dbt_project.yml names (from env_var('SECRETX')) is not in"},
		"target":  {"name: p\nprofile: p\n", "p:\n  target: \"{{ env_var('SECRETX') }}\"\n  outputs:\n    dev: {type: databricks}\n", "the target profile \"p\" names (from env_var('SECRETX')) is not in its outputs"},
		// The engine's own messages may quote what a test or filter was
		// given: not shown for a profile or target name that read a variable.
		"profile, engine error": {"name: p\nprofile: \"{{ [1] | select(env_var('SECRETX')) }}\"\n", "p:\n  outputs:\n    dev: {type: databricks}\n", "profile: its Jinja does not render"},
		"target, engine error":  {"name: p\nprofile: p\n", "p:\n  target: \"{{ [1] | select(env_var('SECRETX')) }}\"\n  outputs:\n    dev: {type: databricks}\n", "target: its Jinja does not render"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for file, content := range map[string]string{"dbt_project.yml": c.project, "profiles.yml": c.profiles} {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			e := Env{LookupEnv: func(k string) (string, bool) {
				if k == "SECRETX" {
					return secret, true
				}
				return "", false
			}, Dir: dir, Home: t.TempDir()}
			_, err := Resolve(Flags{}, e)
			if err == nil || strings.Contains(err.Error(), "S3cr3t") || !strings.Contains(err.Error(), c.mention) {
				t.Errorf("Resolve error = %v, want one mentioning %q and not the value", err, c.mention)
			}
		})
	}
}

// Where a value came from, as status shows it, names a variable computed
// from another's value only as such, however the value was transformed.
func TestOriginsDoNotQuoteComputedNames(t *testing.T) {
	const secret = "TopSecretValue9"
	dir := t.TempDir()
	for file, content := range map[string]string{
		"dbt_project.yml": "name: p\nprofile: p\n",
		"profiles.yml":    "p:\n  target: dev\n  outputs:\n    dev:\n      type: databricks\n      auth_type: oauth\n      host: \"{{ env_var(env_var('S') | lower, 'https://x.cloud.databricks.com') }}\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := Env{LookupEnv: func(k string) (string, bool) {
		if k == "S" {
			return secret, true
		}
		return "", false
	}, Dir: dir, Home: t.TempDir()}
	tg, err := Resolve(Flags{}, e)
	if err != nil {
		t.Fatal(err)
	}
	if o := string(tg.Origins["host"]); strings.Contains(strings.ToLower(o), "secret") || !strings.Contains(o, computedVar) {
		t.Errorf("host origin %q, want the computed name as %q and not the value", o, computedVar)
	}
}

// An ambient DATABRICKS_HOST that the profile's host wins over is named in
// a warning, but never as given when it is no host: it may hold a password,
// or a line of its own.
func TestHostWarningDoesNotQuoteTheAmbientHost(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"dbt_project.yml": "name: p\nprofile: p\n",
		"profiles.yml": "p:\n  target: dev\n  outputs:\n    dev:\n      type: databricks\n      host: h.example\n      http_path: /sql\n      auth_type: oauth\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"https://token:S3cr3tV4lue@h.example", "https://token:S3cr3t%zzV4lue@h.example", "https://h.example\ndbtdbx: S3cr3tV4lue"} {
		e := Env{LookupEnv: func(k string) (string, bool) {
			if k == EnvHost {
				return v, true
			}
			return "", false
		}, Dir: dir, Home: t.TempDir()}
		tg, err := Resolve(Flags{}, e)
		if err != nil {
			t.Fatalf("DATABRICKS_HOST=%q: %v", v, err)
		}
		msg := strings.Join(tg.Warnings, "\n")
		if !strings.Contains(msg, "DATABRICKS_HOST is set but not used") || strings.Contains(strings.ToLower(msg), "s3cr3t") || strings.Contains(msg, "\n") {
			t.Errorf("DATABRICKS_HOST=%q: warnings %q; want one line that does not quote it", v, msg)
		}
	}
}
