package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The project most cases share: ./proj, naming the profile jaffle.
const project = "name: jaffle_shop\nprofile: jaffle\n"

// jaffle is a profiles.yml as the dbt-databricks docs and dbtdbx's README
// teach it: a served token for dev, a PAT from the environment for prod.
const jaffle = `
jaffle:
  target: dev
  outputs:
    dev:
      type: databricks
      host: adb-1234.5.azuredatabricks.net
      http_path: /sql/1.0/warehouses/abc
      schema: dbt_dev
      threads: 4
      token: "{{ env_var('DATABRICKS_TOKEN') }}"
    prod:
      type: databricks
      host: https://adb-9999.9.azuredatabricks.net/
      http_path: /sql/1.0/warehouses/prod
      schema: analytics
      token: "{{ env_var('DBT_ENV_SECRET_PROD_TOKEN') }}"
`

// one returns a profiles.yml with the single target dev of profile jaffle.
func one(fields string) string {
	lines := strings.Split(strings.TrimSpace(fields), "\n")
	return "jaffle:\n  target: dev\n  outputs:\n    dev:\n      " + strings.Join(lines, "\n      ") + "\n"
}

type profileCase struct {
	name string
	// files maps a path under the test's root to its content. Unless a
	// case says otherwise, proj/dbt_project.yml is the project above.
	files map[string]string
	// dir is the current directory under the root ("proj" when empty).
	dir   string
	vars  map[string]string // the environment; $ROOT is the root
	flags Flags             // $ROOT is the root

	// want maps a name of got() to its value ($ROOT is the root);
	// "origin:x" is Origins["x"].
	want map[string]string
	// warn holds one substring per expected warning, in order.
	warn []string
	// err holds substrings the error must have ($ROOT is the root);
	// secret holds ones it must not.
	err    []string
	secret []string
}

// got flattens a Target into named strings, for want.
func got(t *Target) map[string]string {
	m := map[string]string{
		"host": t.Host, "client_id": t.ClientID, "client_secret": t.ClientSecret,
		"scopes": strings.Join(t.Scopes, " "), "redirect_url": t.RedirectURL, "auth": string(t.Auth),
		"project_dir": t.ProjectDir, "profiles_file": t.ProfilesFile, "profile": t.Profile, "target": t.TargetName,
		"http_path": t.HTTPPath, "auth_type": t.AuthType, "token": t.Token, "sp_secret": t.ServicePrincipalSecret,
		"azure_client_id": t.AzureClientID, "azure_client_secret": t.AzureClientSecret,
	}
	if t.TokenServed {
		m["token_served"] = "yes"
	}
	for k, o := range t.Origins {
		m["origin:"+k] = string(o)
	}
	return m
}

func TestResolveProfile(t *testing.T) {
	home := func(profiles string) map[string]string {
		return map[string]string{"proj/dbt_project.yml": project, "home/.dbt/profiles.yml": profiles}
	}
	cases := []profileCase{
		// Which profile and target.
		{
			name:  "served token in the profile's default target",
			files: home(jaffle),
			want: map[string]string{
				"host": "https://adb-1234.5.azuredatabricks.net", "auth": "oauth-u2m", "token_served": "yes", "token": "",
				"http_path": "/sql/1.0/warehouses/abc", "client_id": DefaultClientID, "scopes": "all-apis",
				"redirect_url": DefaultRedirectURL, "project_dir": "$ROOT/proj", "profiles_file": "$ROOT/home/.dbt/profiles.yml",
				"profile": "jaffle", "target": "dev",
				"origin:host": "profiles.yml (jaffle.dev)", "origin:profile": "dbt_project.yml",
				"origin:target": "profiles.yml (jaffle)", "origin:project_dir": "nearest dbt_project.yml from the current directory",
				"origin:profiles_file": "default", "origin:client_id": "default", "origin:scopes": "default",
				"origin:redirect_url": "default", "origin:http_path": "profiles.yml (jaffle.dev)",
				"origin:token": "profiles.yml (jaffle.dev), served by dbtdbx as DATABRICKS_TOKEN",
			},
		},
		{
			name:  "served token ignores a DATABRICKS_TOKEN that is set",
			files: home(jaffle),
			vars:  map[string]string{EnvToken: "dapi-printed-earlier"},
			want:  map[string]string{"auth": "oauth-u2m", "token_served": "yes", "token": ""},
		},
		{
			name:  "--target picks another output: a PAT from the environment",
			files: home(jaffle),
			flags: Flags{Target: "prod"},
			vars:  map[string]string{"DBT_ENV_SECRET_PROD_TOKEN": "dapi-prod"},
			want: map[string]string{
				"host": "https://adb-9999.9.azuredatabricks.net", "auth": "pat", "token": "dapi-prod", "target": "prod",
				"origin:target": "flag --target", "origin:token": "profiles.yml (jaffle.prod) via env DBT_ENV_SECRET_PROD_TOKEN",
			},
		},
		{
			name:  "DBT_TARGET picks the target",
			files: home(jaffle),
			vars:  map[string]string{EnvTarget: "prod", "DBT_ENV_SECRET_PROD_TOKEN": "dapi-prod"},
			want:  map[string]string{"target": "prod", "origin:target": "env DBT_TARGET", "auth": "pat"},
		},
		{
			name:  "--target beats DBT_TARGET",
			files: home(jaffle),
			flags: Flags{Target: "dev"},
			vars:  map[string]string{EnvTarget: "prod"},
			want:  map[string]string{"target": "dev", "origin:target": "flag --target"},
		},
		{
			name:  "target: is Jinja too",
			files: home(strings.Replace(jaffle, "target: dev", `target: "{{ env_var('WHICH', 'prod') }}"`, 1)),
			vars:  map[string]string{"DBT_ENV_SECRET_PROD_TOKEN": "dapi-prod"},
			want:  map[string]string{"target": "prod", "origin:target": "profiles.yml (jaffle) via env WHICH (unset, default used)"},
		},
		{
			name:  "no target: means the target named default",
			files: home("jaffle:\n  outputs:\n    default:\n      type: databricks\n      host: h.cloud.databricks.com\n      http_path: /p\n      auth_type: oauth\n"),
			want:  map[string]string{"target": "default", "origin:target": "default", "auth": "oauth-u2m", "auth_type": "oauth"},
		},
		{
			name: "several profiles: --profile, DBT_PROFILE and dbt_project.yml",
			files: home(jaffle + `
other:
  target: main
  outputs:
    main:
      type: databricks
      host: dbc-a1b2c3d4-e5f6.cloud.databricks.com
      http_path: /sql/1.0/warehouses/other
      auth_type: oauth
`),
			flags: Flags{Profile: "other"},
			vars:  map[string]string{EnvProfile: "jaffle"},
			want: map[string]string{
				"profile": "other", "target": "main", "origin:profile": "flag --profile",
				"host": "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com", "auth": "oauth-u2m",
			},
		},
		{
			name:  "DBT_PROFILE beats dbt_project.yml",
			files: home(jaffle + "other:\n  outputs:\n    default:\n      type: databricks\n      host: other.cloud.databricks.com\n      http_path: /p\n      auth_type: oauth\n"),
			vars:  map[string]string{EnvProfile: "other"},
			want:  map[string]string{"profile": "other", "origin:profile": "env DBT_PROFILE", "host": "https://other.cloud.databricks.com"},
		},
		{
			name: "profile: in dbt_project.yml is Jinja",
			files: map[string]string{
				"proj/dbt_project.yml":   "name: x\nprofile: \"{{ env_var('DBT_PROFILE_NAME', 'jaffle') }}\"\n",
				"home/.dbt/profiles.yml": jaffle,
			},
			want: map[string]string{"profile": "jaffle", "origin:profile": "dbt_project.yml"},
		},

		// Where the files are.
		{
			name: "walks up from a subdirectory to the project",
			dir:  "proj/models/staging",
			files: map[string]string{
				"proj/dbt_project.yml": project, "proj/models/staging/x.sql": "select 1", "home/.dbt/profiles.yml": jaffle,
			},
			want: map[string]string{"project_dir": "$ROOT/proj", "profile": "jaffle"},
		},
		{
			name:  "--project-dir beats DBT_PROJECT_DIR, relative to the current directory",
			dir:   "elsewhere",
			files: map[string]string{"a/dbt_project.yml": project, "b/dbt_project.yml": "profile: nope\n", "elsewhere/x": "", "home/.dbt/profiles.yml": jaffle},
			flags: Flags{ProjectDir: "../a"},
			vars:  map[string]string{EnvProjectDir: "$ROOT/b"},
			want:  map[string]string{"project_dir": "$ROOT/a", "origin:project_dir": "flag --project-dir", "profile": "jaffle"},
		},
		{
			name:  "DBT_PROJECT_DIR beats the current directory",
			files: map[string]string{"proj/dbt_project.yml": "profile: nope\n", "b/dbt_project.yml": project, "home/.dbt/profiles.yml": jaffle},
			vars:  map[string]string{EnvProjectDir: "$ROOT/b"},
			want:  map[string]string{"project_dir": "$ROOT/b", "origin:project_dir": "env DBT_PROJECT_DIR"},
		},
		{
			name: "--profiles-dir beats every other place",
			files: map[string]string{
				"proj/dbt_project.yml":   project,
				"flag/profiles.yml":      one("type: databricks\nhost: flag.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"engine/profiles.yml":    one("type: databricks\nhost: engine.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"env/profiles.yml":       one("type: databricks\nhost: env.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"proj/profiles.yml":      one("type: databricks\nhost: cwd.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"home/.dbt/profiles.yml": one("type: databricks\nhost: home.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
			},
			flags: Flags{ProfilesDir: "../flag"},
			vars:  map[string]string{EnvEngineProfilesDir: "$ROOT/engine", EnvProfilesDir: "$ROOT/env"},
			want:  map[string]string{"host": "https://flag.cloud.databricks.com", "profiles_file": "$ROOT/flag/profiles.yml", "origin:profiles_file": "flag --profiles-dir"},
		},
		{
			name: "DBT_ENGINE_PROFILES_DIR beats DBT_PROFILES_DIR",
			files: map[string]string{
				"proj/dbt_project.yml": project,
				"engine/profiles.yml":  one("type: databricks\nhost: engine.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"env/profiles.yml":     one("type: databricks\nhost: env.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"proj/profiles.yml":    one("type: databricks\nhost: cwd.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
			},
			vars: map[string]string{EnvEngineProfilesDir: "$ROOT/engine", EnvProfilesDir: "$ROOT/env"},
			want: map[string]string{"host": "https://engine.cloud.databricks.com", "origin:profiles_file": "env DBT_ENGINE_PROFILES_DIR"},
		},
		{
			name: "DBT_PROFILES_DIR beats the current directory",
			files: map[string]string{
				"proj/dbt_project.yml": project,
				"env/profiles.yml":     one("type: databricks\nhost: env.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"proj/profiles.yml":    one("type: databricks\nhost: cwd.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
			},
			vars: map[string]string{EnvProfilesDir: "$ROOT/env"},
			want: map[string]string{"host": "https://env.cloud.databricks.com", "origin:profiles_file": "env DBT_PROFILES_DIR"},
		},
		{
			name: "the current directory beats ~/.dbt",
			files: map[string]string{
				"proj/dbt_project.yml":   project,
				"proj/profiles.yml":      one("type: databricks\nhost: cwd.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"home/.dbt/profiles.yml": one("type: databricks\nhost: home.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
			},
			want: map[string]string{"host": "https://cwd.cloud.databricks.com", "origin:profiles_file": "current directory"},
		},
		{
			name: "profiles.yml of the project directory is not read when the current directory is elsewhere",
			dir:  "proj/models",
			files: map[string]string{
				"proj/dbt_project.yml":   project,
				"proj/models/x.sql":      "",
				"proj/profiles.yml":      one("type: databricks\nhost: cwd.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
				"home/.dbt/profiles.yml": one("type: databricks\nhost: home.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth"),
			},
			want: map[string]string{"host": "https://home.cloud.databricks.com", "origin:profiles_file": "default"},
		},

		// YAML as PyYAML reads it.
		{
			name: "anchors and a single merge; explicit keys beat merged ones; anchor-only and config: keys are ignored",
			files: home(`
config:
  send_anonymous_usage_stats: false
_defaults: &defaults
  type: databricks
  host: adb-1111.1.azuredatabricks.net
  http_path: /sql/1.0/warehouses/shared
  auth_type: oauth
jaffle:
  target: dev
  outputs:
    dev:
      <<: *defaults
      http_path: /sql/1.0/warehouses/dev
    prod:
      <<: *defaults
      host: adb-2222.2.azuredatabricks.net
`),
			want: map[string]string{"host": "https://adb-1111.1.azuredatabricks.net", "http_path": "/sql/1.0/warehouses/dev", "auth": "oauth-u2m"},
		},
		{
			name: "a list of merges: the earlier mapping wins",
			files: home(`
base: &base
  type: databricks
  host: base.cloud.databricks.com
  http_path: /base
  auth_type: oauth
team: &team
  host: team.cloud.databricks.com
  client_id: team-app
jaffle:
  target: dev
  outputs:
    dev:
      <<: [*team, *base]
`),
			want: map[string]string{"host": "https://team.cloud.databricks.com", "http_path": "/base", "client_id": "team-app", "origin:client_id": "profiles.yml (jaffle.dev)"},
		},
		{
			name: "merges of merges, and a whole output by alias",
			files: home(`
x-base: &base {type: databricks, auth_type: oauth}
x-dev: &dev
  <<: *base
  host: dev.cloud.databricks.com
  http_path: /dev
jaffle:
  target: ci
  outputs:
    dev: *dev
    ci: *dev
`),
			want: map[string]string{"host": "https://dev.cloud.databricks.com", "target": "ci", "auth_type": "oauth"},
		},
		{
			name: "duplicate keys: the last one wins",
			files: home(`
jaffle:
  target: prod
  target: dev
  outputs:
    dev:
      type: databricks
      host: first.cloud.databricks.com
      http_path: /p
      auth_type: oauth
      host: second.cloud.databricks.com
    dev:
      type: databricks
      host: third.cloud.databricks.com
      http_path: /p
      auth_type: oauth
`),
			want: map[string]string{"host": "https://third.cloud.databricks.com", "target": "dev"},
		},
		{
			name:  "non-string scalars are kept and not rendered",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\nport: 443\nthreads: 8\nretry_all: true\nconnect_timeout: 1.5")),
			want:  map[string]string{"host": "https://h.cloud.databricks.com"},
		},

		// Jinja as dbt renders it.
		{
			name: "env_var: a variable set to the empty string beats the default",
			files: home(one(`type: databricks
host: h.cloud.databricks.com
http_path: "/sql/1.0/warehouses/{{ env_var('WAREHOUSE', 'fallback') }}"
auth_type: oauth`)),
			vars: map[string]string{"WAREHOUSE": ""},
			want: map[string]string{"http_path": "/sql/1.0/warehouses/"},
		},
		{
			name: "env_var: an unset variable takes the default",
			files: home(one(`type: databricks
host: h.cloud.databricks.com
http_path: "/sql/1.0/warehouses/{{ env_var('WAREHOUSE', 'fallback') }}"
auth_type: "{{ env_var('AUTH', 'oauth') }}"`)),
			want: map[string]string{"http_path": "/sql/1.0/warehouses/fallback", "auth_type": "oauth", "origin:auth_type": "profiles.yml (jaffle.dev) via env AUTH (unset, default used)"},
		},
		{
			name: "env_var: a numeric default and a nested env_var default",
			files: home(one(`type: databricks
host: "adb-{{ env_var('WS_ID', 1234) }}.{{ env_var('WS_SHARD', 5) }}.azuredatabricks.net"
http_path: "{{ env_var('HTTP_PATH', env_var('DEFAULT_HTTP_PATH')) }}"
auth_type: oauth`)),
			vars: map[string]string{"DEFAULT_HTTP_PATH": "/sql/1.0/warehouses/nested"},
			want: map[string]string{
				"host": "https://adb-1234.5.azuredatabricks.net", "http_path": "/sql/1.0/warehouses/nested",
				"origin:host": "profiles.yml (jaffle.dev) via env WS_ID (unset, default used), WS_SHARD (unset, default used)",
			},
		},
		{
			name: "several expressions and filters in one value",
			files: home(one(`type: databricks
host: "{{ env_var('WS_SCHEME', 'https') }}://{{ env_var('WS') | lower | trim }}.{{ env_var('CLOUD') | replace('aws', 'cloud') }}.databricks.com"
http_path: "/sql/1.0/warehouses/{{ env_var('WH_NUM') | as_number }}{{ env_var('SUFFIX', 7) | int + 1 }}{{ 'x' | as_text }}"
auth_type: "{{ 'oauth' if env_var('CI', 'False') | as_bool == false else 'token' }}"`)),
			vars: map[string]string{"WS": "  DBC-ABC ", "CLOUD": "aws", "WH_NUM": "42"},
			want: map[string]string{"host": "https://dbc-abc.cloud.databricks.com", "http_path": "/sql/1.0/warehouses/428x", "auth_type": "oauth"},
		},
		{
			name: "var() gives its default",
			files: home(one(`type: databricks
host: "{{ var('workspace', 'dbc-x.cloud.databricks.com') }}"
http_path: /p
auth_type: oauth`)),
			want: map[string]string{"host": "https://dbc-x.cloud.databricks.com"},
		},
		{
			name: "an unset variable in another target or profile is not an error",
			files: home(jaffle + `
broken:
  target: "{{ env_var('NOPE_TARGET') }}"
  outputs:
    x:
      host: "{{ env_var('NOPE') }}"
`),
			want: map[string]string{"target": "dev", "token_served": "yes"},
		},

		// Host spellings.
		{
			name:  "Azure host with :443 and upper case",
			files: home(one("type: databricks\nhost: ADB-1234567890123456.7.AzureDatabricks.NET:443\nhttp_path: /p\nauth_type: oauth")),
			want:  map[string]string{"host": "https://adb-1234567890123456.7.azuredatabricks.net"},
		},
		{
			name:  "AWS host with scheme and trailing slash",
			files: home(one("type: databricks\nhost: https://dbc-a1b2c3d4-e5f6.cloud.databricks.com/\nhttp_path: /p\nauth_type: oauth")),
			want:  map[string]string{"host": "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com"},
		},
		{
			name:  "GCP host with ?o= and an empty fragment",
			files: home(one("type: databricks\nhost: \"https://1234567890123456.7.gcp.databricks.com/?o=1234567890123456#\"\nhttp_path: /p\nauth_type: oauth")),
			want:  map[string]string{"host": "https://1234567890123456.7.gcp.databricks.com"},
		},

		// How the target authenticates.
		{
			name:  "a PAT written in the profile",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\ntoken: dapi0123456789abcdef")),
			want:  map[string]string{"auth": "pat", "token": "dapi0123456789abcdef", "origin:token": "profiles.yml (jaffle.dev)"},
		},
		{
			name:  "a PAT wins over a service principal in the same target, as in dbt-databricks",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\ntoken: dapi-x\nclient_id: sp-id\nclient_secret: dose-secret")),
			want:  map[string]string{"auth": "pat", "token": "dapi-x", "sp_secret": ""},
		},
		{
			name: "OAuth with the profile's app, scopes and redirect URL",
			files: home(one(`type: databricks
host: h.cloud.databricks.com
http_path: /p
auth_type: oauth
client_id: my-app
oauth_redirect_url: http://localhost:8030
oauth_scopes: [sql, offline_access]`)),
			vars: map[string]string{EnvClientID: "env-app", EnvClientSecret: "confidential"},
			// The profile's client id wins over the environment's, which is
			// named in a warning.
			warn: []string{`DATABRICKS_CLIENT_ID is "env-app", but profiles.yml (jaffle.dev) gives the client id my-app, and that one is used`},
			want: map[string]string{
				"auth": "oauth-u2m", "client_id": "my-app", "scopes": "sql", "redirect_url": "http://localhost:8030",
				"client_secret": "confidential", "origin:client_secret": "env DBTDBX_CLIENT_SECRET",
				"origin:scopes": "profiles.yml (jaffle.dev)", "origin:redirect_url": "profiles.yml (jaffle.dev)",
			},
		},
		{
			name:  "oauth_scopes as a string; an empty client_id means dbt-databricks",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\nclient_id: ''\noauth_scopes: all-apis sql")),
			want:  map[string]string{"scopes": "all-apis sql", "client_id": "dbt-databricks", "origin:client_id": "default"},
		},
		{
			name:  "flags beat the profile",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\nclient_id: my-app\noauth_scopes: [sql]")),
			flags: Flags{Host: "other.cloud.databricks.com", ClientID: "flag-app", Scopes: "all-apis", RedirectURL: "http://127.0.0.1:9000"},
			want: map[string]string{
				"host": "https://other.cloud.databricks.com", "client_id": "flag-app", "scopes": "all-apis", "redirect_url": "http://127.0.0.1:9000",
				"origin:host": "flag --host", "origin:client_id": "flag --client-id",
			},
			warn: []string{"--host https://other.cloud.databricks.com is used instead of the host of profile \"jaffle\", target \"dev\" (https://h.cloud.databricks.com)"},
		},
		{
			name:  "the environment fills what the profile leaves open",
			files: home(jaffle),
			vars:  map[string]string{EnvClientID: "env-app"},
			want:  map[string]string{"client_id": "env-app", "origin:client_id": "env DATABRICKS_CLIENT_ID", "auth": "oauth-u2m"},
		},
		{
			name: "a Databricks service principal",
			files: home(one(`type: databricks
host: h.cloud.databricks.com
http_path: /p
auth_type: oauth
client_id: 11111111-2222-3333-4444-555555555555
client_secret: "{{ env_var('DBT_ENV_SECRET_SP') }}"`)),
			vars: map[string]string{"DBT_ENV_SECRET_SP": "dose-sp-secret", EnvClientSecret: "not-this-one"},
			want: map[string]string{
				"auth": "oauth-m2m", "client_id": "11111111-2222-3333-4444-555555555555", "sp_secret": "dose-sp-secret", "client_secret": "",
				"origin:client_secret": "profiles.yml (jaffle.dev) via env DBT_ENV_SECRET_SP",
			},
		},
		{
			name:  "a served token with a service principal: dbtdbx gets tokens with client credentials",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\ntoken: \"{{ env_var('DATABRICKS_TOKEN') }}\"\nclient_id: sp-id\nclient_secret: dose-x")),
			want:  map[string]string{"auth": "oauth-m2m", "token_served": "yes", "sp_secret": "dose-x"},
		},
		{
			name:  "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET make a service principal for a served token",
			files: home(jaffle),
			vars:  map[string]string{EnvClientID: "sp-id", EnvServicePrincipalSecret: "dose-env"},
			want: map[string]string{
				"auth": "oauth-m2m", "client_id": "sp-id", "sp_secret": "dose-env", "token_served": "yes",
				"origin:client_secret": "env DATABRICKS_CLIENT_SECRET",
			},
		},
		{
			name:  "--client-id drops the profile's client secret",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\nclient_id: sp-id\nclient_secret: dose-x")),
			flags: Flags{ClientID: "my-app"},
			want:  map[string]string{"auth": "oauth-u2m", "client_id": "my-app", "sp_secret": ""},
			warn:  []string{"its client_secret is not used"},
		},
		{
			name: "an Entra ID service principal",
			files: home(one(`type: databricks
host: adb-1.2.azuredatabricks.net
http_path: /p
auth_type: oauth
azure_client_id: "{{ env_var('ARM_CLIENT_ID') }}"
azure_client_secret: "{{ env_var('ARM_CLIENT_SECRET') }}"`)),
			vars: map[string]string{"ARM_CLIENT_ID": "azure-app", "ARM_CLIENT_SECRET": "azure-secret"},
			want: map[string]string{"auth": "azure-client-secret", "azure_client_id": "azure-app", "azure_client_secret": "azure-secret"},
		},

		// Warnings.
		{
			name:  "an ambient DATABRICKS_HOST that disagrees",
			files: home(jaffle),
			vars:  map[string]string{EnvHost: "https://somewhere-else.cloud.databricks.com"},
			want:  map[string]string{"host": "https://adb-1234.5.azuredatabricks.net", "origin:host": "profiles.yml (jaffle.dev)"},
			warn:  []string{"DATABRICKS_HOST is https://somewhere-else.cloud.databricks.com, but profile \"jaffle\", target \"dev\" says https://adb-1234.5.azuredatabricks.net: using the profile's host"},
		},
		{
			name:  "an ambient DATABRICKS_HOST that agrees after normalisation",
			files: home(jaffle),
			vars:  map[string]string{EnvHost: "https://ADB-1234.5.azuredatabricks.net/"},
			want:  map[string]string{"host": "https://adb-1234.5.azuredatabricks.net"},
		},
		{
			name:  "a profile host read from DATABRICKS_HOST",
			files: home(one("type: databricks\nhost: \"{{ env_var('DATABRICKS_HOST') }}\"\nhttp_path: /p\nauth_type: oauth")),
			vars:  map[string]string{EnvHost: "dbc-x.cloud.databricks.com"},
			want:  map[string]string{"host": "https://dbc-x.cloud.databricks.com", "origin:host": "profiles.yml (jaffle.dev) via env DATABRICKS_HOST"},
		},
		{
			name:  "no http_path",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nauth_type: oauth")),
			warn:  []string{"has no http_path"},
		},

		// No dbt project: flags, environment and defaults only.
		{
			name:  "no project: a broken ~/.dbt/profiles.yml is not even read",
			dir:   "nowhere",
			files: map[string]string{"nowhere/x": "", "home/.dbt/profiles.yml": "{{{ not yaml"},
			flags: Flags{Host: "h.cloud.databricks.com"},
			want:  map[string]string{"host": "https://h.cloud.databricks.com", "project_dir": "", "profile": "", "auth": "oauth-u2m"},
		},
		{
			name:  "no project: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET make a service principal",
			dir:   "nowhere",
			files: map[string]string{"nowhere/x": ""},
			vars:  map[string]string{EnvHost: "h.cloud.databricks.com", EnvClientID: "sp", EnvServicePrincipalSecret: "dose-x"},
			want:  map[string]string{"auth": "oauth-m2m", "client_id": "sp", "sp_secret": "dose-x", "origin:client_secret": "env DATABRICKS_CLIENT_SECRET"},
		},
		{
			name:  "no project: DATABRICKS_CLIENT_SECRET without its client id is not used",
			dir:   "nowhere",
			files: map[string]string{"nowhere/x": ""},
			vars:  map[string]string{EnvHost: "h.cloud.databricks.com", EnvServicePrincipalSecret: "dose-x"},
			want:  map[string]string{"auth": "oauth-u2m", "sp_secret": ""},
			warn:  []string{"DATABRICKS_CLIENT_SECRET is set without DATABRICKS_CLIENT_ID"},
		},

		// Errors.
		{
			name:  "--target without a project",
			dir:   "nowhere",
			files: map[string]string{"nowhere/x": ""},
			flags: Flags{Host: "h.cloud.databricks.com", Target: "prod"},
			err:   []string{"--target needs a dbt project", "--project-dir"},
		},
		{
			name:  "--project-dir without dbt_project.yml",
			files: map[string]string{"empty/x": ""},
			flags: Flags{ProjectDir: "$ROOT/empty"},
			err:   []string{"no dbt_project.yml in $ROOT/empty", "flag --project-dir"},
		},
		{
			name:  "DBT_PROJECT_DIR without dbt_project.yml",
			files: map[string]string{"proj/dbt_project.yml": project},
			vars:  map[string]string{EnvProjectDir: "nope"},
			err:   []string{"no dbt_project.yml in $ROOT/proj/nope", "env DBT_PROJECT_DIR"},
		},
		{
			name:  "dbt_project.yml without profile:",
			files: map[string]string{"proj/dbt_project.yml": "name: x\n", "home/.dbt/profiles.yml": jaffle},
			err:   []string{"$ROOT/proj/dbt_project.yml names no profile", "--profile"},
		},
		{
			name:  "profile not found lists the profiles",
			files: home(jaffle + "_anchors: &a {type: databricks}\nother:\n  outputs: {x: {type: databricks}}\nconfig: {}\n"),
			flags: Flags{Profile: "nope"},
			err:   []string{`profile "nope" not found in $ROOT/home/.dbt/profiles.yml; it has: jaffle, other`, "flag --profile"},
		},
		{
			name:  "target not found lists the targets",
			files: home(jaffle),
			vars:  map[string]string{EnvTarget: "staging"},
			err:   []string{`target "staging" not found in profile "jaffle" of $ROOT/home/.dbt/profiles.yml; it has: dev, prod`, "env DBT_TARGET"},
		},
		{
			name:  "no profiles.yml anywhere",
			files: map[string]string{"proj/dbt_project.yml": project, "home/.dbt/profiles.yaml": jaffle},
			err:   []string{"no profiles.yml found", "$ROOT/proj and $ROOT/home/.dbt", "--profiles-dir", "profiles.yaml, but dbt reads only the name profiles.yml"},
		},
		{
			name:  "the project's profiles.yml, run from a subdirectory",
			files: map[string]string{"proj/dbt_project.yml": project, "proj/profiles.yml": jaffle, "proj/models/x": ""},
			dir:   "proj/models",
			err:   []string{"no profiles.yml found", "the dbt project $ROOT/proj holds one", "--profiles-dir $ROOT/proj"},
		},
		{
			name:  "--profiles-dir that does not exist",
			files: map[string]string{"proj/dbt_project.yml": project},
			flags: Flags{ProfilesDir: "conf"},
			err:   []string{"$ROOT/proj/conf", "does not exist", "flag --profiles-dir"},
		},
		{
			name:  "DBT_PROFILES_DIR without profiles.yml",
			files: map[string]string{"proj/dbt_project.yml": project, "conf/x": ""},
			vars:  map[string]string{EnvProfilesDir: "$ROOT/conf"},
			err:   []string{"no profiles.yml in $ROOT/conf", "env DBT_PROFILES_DIR"},
		},
		{
			name:  "empty profiles.yml",
			files: home("# nothing yet\n"),
			err:   []string{"$ROOT/home/.dbt/profiles.yml is empty"},
		},
		{
			name:  "YAML syntax error names the file and the line",
			files: home("jaffle:\n  target: dev\n  outputs:\n    dev:\n      host: [unclosed\n"),
			err:   []string{"$ROOT/home/.dbt/profiles.yml:"},
		},
		{
			name:  "YAML error in dbt_project.yml",
			files: map[string]string{"proj/dbt_project.yml": "name: x\nprofile: jaffle\n  bad: indent\n", "home/.dbt/profiles.yml": jaffle},
			err:   []string{"$ROOT/proj/dbt_project.yml:3:"},
		},
		{
			name:  "two YAML documents",
			files: home(jaffle + "---\nmore: stuff\n"),
			err:   []string{"profiles.yml:", "second YAML document"},
		},
		{
			name:  "unquoted Jinja is a YAML mapping",
			files: home(one("type: databricks\nhost: {{ env_var('H') }}\nhttp_path: /p\nauth_type: oauth")),
			err:   []string{"profiles.yml:", "host must be a single value", "must be quoted"},
		},
		{
			name:  "a merge of something that is not a mapping",
			files: home("x: &s just-a-string\njaffle:\n  outputs:\n    default:\n      <<: *s\n"),
			err:   []string{"profiles.yml:5:", "merge key"},
		},
		{
			name:  "a merge that includes itself",
			files: home("jaffle:\n  outputs:\n    default: &d\n      type: databricks\n      <<: [*d]\n"),
			err:   []string{"profiles.yml:", "merges itself"},
		},
		{
			name:  "profile without outputs",
			files: home("jaffle:\n  target: dev\n"),
			err:   []string{"profiles.yml:2:", `profile "jaffle" has no outputs`},
		},
		{
			name:  "an empty target",
			files: home("jaffle:\n  outputs:\n    default:\n"),
			err:   []string{"profiles.yml:3:", `profile "jaffle", target "default" is empty`},
		},
		{
			name:  "type is not databricks",
			files: home(one("type: snowflake\naccount: x")),
			err:   []string{"profiles.yml:5:", `profile "jaffle", target "dev" has type "snowflake"`, "type: databricks"},
		},
		{
			name:  "no type",
			files: home(one("host: h.cloud.databricks.com\nauth_type: oauth")),
			err:   []string{`profile "jaffle", target "dev" has no type`},
		},
		{
			name:  "no host",
			files: home(one("type: databricks\nhttp_path: /p\nauth_type: oauth")),
			err:   []string{`profile "jaffle", target "dev": host is required`},
		},
		{
			name:  "a host that is not one",
			files: home(one("type: databricks\nhost: http://dbc-x.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth")),
			err:   []string{"plain http", "profiles.yml:6:", `profile "jaffle", target "dev": host:`},
		},
		{
			name:   "azure_client_id without azure_client_secret",
			files:  home(one("type: databricks\nhost: h.azuredatabricks.net\nhttp_path: /p\nauth_type: oauth\nazure_client_id: app")),
			err:    []string{"azure_client_id is set without azure_client_secret"},
			secret: []string{"app-secret"},
		},
		{
			name:   "azure_client_secret without azure_client_id",
			files:  home(one("type: databricks\nhost: h.azuredatabricks.net\nhttp_path: /p\nauth_type: oauth\nazure_client_secret: app-secret")),
			err:    []string{"azure_client_secret is set without azure_client_id"},
			secret: []string{"app-secret"},
		},
		{
			name:   "client_secret without client_id",
			files:  home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\nclient_secret: dose-leak")),
			err:    []string{"client_secret is set without client_id"},
			secret: []string{"dose-leak"},
		},
		{
			name:   "a service principal without auth_type: oauth",
			files:  home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nclient_id: sp\nclient_secret: dose-leak")),
			err:    []string{"service principal", "auth_type: oauth"},
			secret: []string{"dose-leak"},
		},
		{
			name:  "no token and no auth_type",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p")),
			err:   []string{"it has no token", "auth_type: oauth", "env_var('DATABRICKS_TOKEN')"},
		},
		{
			name:  "another auth_type and no token",
			files: home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: pat")),
			err:   []string{`auth_type is "pat"`, "auth_type: oauth"},
		},
		{
			name:  "an unset variable names it, the target and the line",
			files: home(jaffle),
			flags: Flags{Target: "prod"},
			err:   []string{"profiles.yml:17:", `profile "jaffle", target "prod"`, "token", "DBT_ENV_SECRET_PROD_TOKEN is not set"},
		},
		{
			name:  "an env_var() whose default is an unset env_var()",
			files: home(one("type: databricks\nhost: \"{{ env_var('H1', env_var('H2')) }}\"\nauth_type: oauth")),
			vars:  map[string]string{"H1": "set-but-the-default-is-still-evaluated"},
			err:   []string{"H2 is not set"},
		},
		{
			name:  "var() without a default",
			files: home(one("type: databricks\nhost: \"{{ var('workspace') }}\"\nauth_type: oauth")),
			err:   []string{"var('workspace') has no default"},
		},
		{
			name:  "an unset variable in the profile's target:",
			files: home(strings.Replace(jaffle, "target: dev", `target: "{{ env_var('DBT_TARGET_NAME') }}"`, 1)),
			err:   []string{"profiles.yml:3:", `profile "jaffle": target:`, "DBT_TARGET_NAME is not set"},
		},
		{
			name:  "an unset variable in dbt_project.yml's profile:",
			files: map[string]string{"proj/dbt_project.yml": "profile: \"{{ env_var('WHICH_PROFILE') }}\"\n", "home/.dbt/profiles.yml": jaffle},
			err:   []string{"dbt_project.yml:1: profile:", "WHICH_PROFILE is not set"},
		},
		{
			name:   "the engine's error about a secret is not shown",
			files:  home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\ntoken: \"dapi-very-secret{{ 'x' | as_number }}\"")),
			err:    []string{"token", "not shown"},
			secret: []string{"dapi-very-secret"},
		},
		{
			name:   "a Jinja syntax error in a secret is not shown",
			files:  home(one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\nclient_id: x\nclient_secret: \"dose-very-secret{{ oops\"")),
			err:    []string{"client_secret", "not shown"},
			secret: []string{"dose-very-secret"},
		},
		{
			name:  "a Jinja error in another field is shown",
			files: home(one("type: databricks\nhost: \"{{ 'h' | no_such_filter }}\"\nhttp_path: /p\nauth_type: oauth")),
			err:   []string{"host", "no_such_filter"},
		},
		{
			name:  "a Jinja include cannot read files",
			files: map[string]string{"proj/dbt_project.yml": project, "proj/secret.txt": "x", "home/.dbt/profiles.yml": one("type: databricks\nhost: \"{% include '../proj/secret.txt' %}\"\nauth_type: oauth")},
			err:   []string{"host", "Jinja"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runProfileCase(t, c) })
	}
}

func runProfileCase(t *testing.T, c profileCase) {
	t.Helper()
	root := t.TempDir()
	// macOS puts temp dirs behind a symlink; paths compare resolved.
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	expand := func(s string) string { return strings.ReplaceAll(s, "$ROOT", root) }
	files := c.files
	for path, content := range files {
		full := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := c.dir
	if dir == "" {
		dir = "proj"
	}
	vars := map[string]string{}
	for k, v := range c.vars {
		vars[k] = expand(v)
	}
	e := Env{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Dir:       filepath.Join(root, dir),
		Home:      filepath.Join(root, "home"),
	}
	f := c.flags
	f.ProjectDir, f.ProfilesDir = expand(f.ProjectDir), expand(f.ProfilesDir)

	tg, err := Resolve(f, e)
	if len(c.err) > 0 {
		if err == nil {
			t.Fatalf("Resolve succeeded (%+v), want an error mentioning %q", tg, c.err)
		}
		for _, m := range c.err {
			if !strings.Contains(err.Error(), expand(m)) {
				t.Errorf("error %q does not mention %q", err, expand(m))
			}
		}
		t.Log(err)
		for _, s := range c.secret {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q shows the secret %q", err, s)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	g := got(tg)
	for k, want := range c.want {
		if g[k] != expand(want) {
			t.Errorf("%s = %q, want %q", k, g[k], expand(want))
		}
	}
	if len(tg.Warnings) != len(c.warn) {
		t.Errorf("warnings %q, want %d mentioning %q", tg.Warnings, len(c.warn), c.warn)
		return
	}
	for i, w := range c.warn {
		if !strings.Contains(tg.Warnings[i], w) {
			t.Errorf("warning %q does not mention %q", tg.Warnings[i], w)
		}
	}
}

// FuzzResolveProfile feeds profiles.yml bytes to Resolve, which must
// return a Target or an error and never panic.
func FuzzResolveProfile(f *testing.F) {
	for _, seed := range []string{
		jaffle,
		one("type: databricks\nhost: h.cloud.databricks.com\nhttp_path: /p\nauth_type: oauth\noauth_scopes: [sql]"),
		"_d: &d {type: databricks, host: h.example, auth_type: oauth}\njaffle:\n  outputs:\n    default:\n      <<: [*d, *d]\n",
		"jaffle:\n  outputs:\n    default: &x\n      <<: *x\n",
		"jaffle:\n  target: \"{{ env_var('T', 'dev') }}\"\n  outputs:\n    dev:\n      type: databricks\n      host: \"{% if true %}h.example{% endif %}\"\n      token: \"{{ env_var('DATABRICKS_TOKEN') | trim }}\"\n",
		"a: &a [*a]\njaffle: *a\n",
		"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\njaffle:\n  outputs:\n    default:\n      type: databricks\n      host: h.example\n      auth_type: oauth\n      oauth_scopes: *c\n",
		"jaffle:\n  outputs:\n    default:\n      type: databricks\n      host: \"{{ env_var('H', 'h') ~ '.example' | lower }}\"\n      token: \"{{ var('t', 'dapi') }}{# x #}\"\n      client_secret: \"{% set s = 'x' %}{{ s }}\"\n",
		"jaffle:\n  outputs:\n    default:\n      type: databricks\n      host: \"{% for c in 'ab' %}{{ c }}{% endfor %}{{ 'h' * 2 }}{{ 'é'[0:99999] }}\"\n      auth_type: \"{{ env_var('A', 'oauth')[:5] | lower }}\"\n",
		"",
		"{{{",
	} {
		f.Add([]byte(seed))
	}
	root := f.TempDir()
	if err := os.WriteFile(filepath.Join(root, "dbt_project.yml"), []byte(project), 0o600); err != nil {
		f.Fatal(err)
	}
	e := Env{LookupEnv: func(k string) (string, bool) { return map[string]string{"T": "dev"}[k], k == "T" }, Dir: root, Home: root}
	f.Fuzz(func(t *testing.T, profiles []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "profiles.yml"), profiles, 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := Resolve(Flags{ProfilesDir: dir}, e)
		if err == nil && (tg == nil || tg.Host == "") {
			t.Fatalf("Resolve returned no error and no usable target: %+v", tg)
		}
	})
}
