// Package config turns flags, the environment and the dbt project into one
// resolved Target: the workspace, the OAuth client, the scopes and the way
// of authenticating a command works for. It reads dbt_project.yml and
// profiles.yml as dbt Core and dbt-databricks do, Jinja included. Every
// resolved value records where it came from, so status can explain it.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Defaults for a Target. The published dbt app connection "dbt-databricks"
// registers exactly DefaultRedirectURL.
const (
	DefaultClientID    = "dbt-databricks"
	DefaultScopes      = "all-apis"
	DefaultRedirectURL = "http://localhost:8020"
	// OfflineAccess is the scope without which no refresh token is issued.
	OfflineAccess = "offline_access"
)

// Environment variables read by Resolve.
const (
	EnvHost     = "DATABRICKS_HOST"
	EnvClientID = "DATABRICKS_CLIENT_ID"
	// EnvServicePrincipalSecret is the secret of the service principal
	// DATABRICKS_CLIENT_ID names; it is used with that client id only.
	EnvServicePrincipalSecret = "DATABRICKS_CLIENT_SECRET"
	// EnvClientSecret is the secret of a confidential app connection used
	// for a browser login.
	EnvClientSecret = "DBTDBX_CLIENT_SECRET"
)

// Origin says where a resolved value came from, in words fit for status
// output: "flag --host", "env DATABRICKS_HOST" or "default".
type Origin string

// OriginDefault marks a value nobody set.
const OriginDefault Origin = "default"

// Flags holds the command-line values; an empty string means "not given".
type Flags struct {
	Host        string
	ClientID    string
	Scopes      string
	RedirectURL string

	// dbt's own flags, with dbt's names.
	ProjectDir  string // --project-dir
	ProfilesDir string // --profiles-dir
	Profile     string // --profile
	Target      string // --target, -t
}

// Env is the part of the process environment that Resolve reads. Tests pass
// a fake one so the machine's own settings never leak in.
type Env struct {
	// LookupEnv reports an environment variable, telling unset from empty.
	LookupEnv func(string) (string, bool)
	// Dir is the current directory; relative paths resolve against it.
	Dir string
	// Home is the user's home directory (for ~/.dbt/profiles.yml).
	Home string
}

// OSEnv returns the environment of this process.
func OSEnv() (Env, error) {
	dir, err := os.Getwd()
	if err != nil {
		return Env{}, fmt.Errorf("cannot read the current directory: %w", err)
	}
	home, _ := os.UserHomeDir()
	return Env{LookupEnv: os.LookupEnv, Dir: dir, Home: home}, nil
}

// Get returns the variable's value, or "" when unset.
func (e Env) Get(name string) string {
	v, _ := e.lookup(name)
	return v
}

// lookup is LookupEnv for an Env that may have none.
func (e Env) lookup(name string) (string, bool) {
	if e.LookupEnv == nil {
		return "", false
	}
	return e.LookupEnv(name)
}

// Auth is how a Target gets its tokens.
type Auth string

// The ways a Target can authenticate, named as the Databricks SDKs do.
const (
	// AuthLogin is a user's browser login (OAuth U2M); tokens are kept in
	// the store and refreshed.
	AuthLogin Auth = "oauth-u2m"
	// AuthPAT is a personal access token written in the dbt profile.
	AuthPAT Auth = "pat"
	// AuthServicePrincipal is a Databricks service principal: client id and
	// secret, exchanged with the client-credentials grant (OAuth M2M).
	AuthServicePrincipal Auth = "oauth-m2m"
	// AuthAzureServicePrincipal is an Entra ID service principal
	// (azure_client_id and azure_client_secret in the profile).
	AuthAzureServicePrincipal Auth = "azure-client-secret"
)

// Target is what a command works for. Its zero value is not usable; build
// one with Resolve.
type Target struct {
	// Host is normalised: "https://host[:port]".
	Host     string
	ClientID string
	// ClientSecret is set for an app connection created with a secret (a
	// confidential client) used for a browser login. It comes only from the
	// environment (DBTDBX_CLIENT_SECRET), never argv.
	ClientSecret string
	// Scopes are the scopes asked for, without offline_access.
	Scopes      []string
	RedirectURL string
	// Auth says how tokens are obtained.
	Auth Auth

	// Where the target came from, when a dbt project was found; all empty
	// otherwise.
	ProjectDir   string
	ProfilesFile string
	Profile      string
	TargetName   string

	// HTTPPath is the profile's http_path (reported, not used for tokens).
	HTTPPath string
	// AuthType is the profile's auth_type as written ("oauth", or empty).
	AuthType string
	// Token is the personal access token of an AuthPAT target.
	Token string
	// TokenServed is true when the profile's token renders from
	// DATABRICKS_TOKEN: dbtdbx is the one that provides it.
	TokenServed bool
	// ServicePrincipalSecret is the client secret of an
	// AuthServicePrincipal target.
	ServicePrincipalSecret string
	// AzureClientID and AzureClientSecret belong to an
	// AuthAzureServicePrincipal target.
	AzureClientID     string
	AzureClientSecret string

	// Warnings are things the user should know, such as an ambient
	// DATABRICKS_HOST that disagrees with the profile.
	Warnings []string

	// Origins maps each field name ("host", "client_id", "client_secret",
	// "scopes", "redirect_url", "http_path", "auth_type", "token",
	// "profile", "target", "project_dir", "profiles_file",
	// "azure_client_id", "azure_client_secret") to where its value came
	// from, for instance "flag --host", "env DATABRICKS_HOST",
	// "profiles.yml (jaffle.dev) via env DBT_HOST", "dbt_project.yml" or
	// OriginDefault. Fields that do not apply to the target have no entry.
	Origins map[string]Origin
}

// Resolve builds the Target the way dbt would see it, then fills what the
// profile leaves open. Each field comes from the first of:
//
//  1. the flags (--host, --client-id, --scopes, --redirect-url);
//  2. the dbt profile's selected target, when a dbt project is found (see
//     readDBTTarget for how the project, profiles.yml, profile and target
//     are found, as dbt Core finds them);
//  3. the environment: DATABRICKS_HOST, DATABRICKS_CLIENT_ID, and
//     DATABRICKS_CLIENT_SECRET with that client id only;
//  4. the defaults.
//
// How the target authenticates follows dbt-databricks: a personal access
// token in the profile, else an Entra ID service principal, else a
// Databricks service principal (a client secret with its client id), else
// a browser login. A profile whose token reads DATABRICKS_TOKEN is served by
// dbtdbx and decides by the other fields. Every value is validated; errors
// name the bad one and where it came from, and never quote a secret.
func Resolve(f Flags, env Env) (*Target, error) {
	p, err := readDBTTarget(f, env)
	if err != nil {
		return nil, err
	}
	t := &Target{Origins: map[string]Origin{}, Auth: AuthLogin}
	if p != nil {
		t.ProjectDir, t.ProfilesFile, t.Profile, t.TargetName = p.projectDir, p.profilesFile, p.profile, p.name
		for k, o := range p.origins {
			t.Origins[k] = o
		}
	}
	pick := func(field string, candidates ...source) string {
		for _, c := range candidates {
			if c.value != "" {
				t.Origins[field] = c.origin
				return c.value
			}
		}
		return ""
	}
	flag := func(name, v string) source { return source{v, Origin("flag --" + name)} }
	fromEnv := func(name string) source { return source{env.Get(name), Origin("env " + name)} }
	def := func(v string) source { return source{v, OriginDefault} }

	host := pick("host", flag("host", f.Host), p.source("host"), fromEnv(EnvHost))
	if host == "" && p == nil {
		return nil, fmt.Errorf("no workspace host: not in a dbt project (no dbt_project.yml here or above); pass --host https://<workspace>, set %s, or run in a dbt project (or name one with --project-dir)", EnvHost)
	}
	if host == "" {
		return nil, fmt.Errorf("no workspace host: pass --host https://<workspace> or set %s", EnvHost)
	}
	if t.Host, err = NormalizeHost(host); err != nil {
		return nil, p.explain("host", t.Origins["host"], "workspace host", err)
	}
	if p != nil {
		t.Warnings = append(t.Warnings, hostWarnings(t, p, env)...)
	}

	t.ClientID = strings.TrimSpace(pick("client_id", flag("client-id", f.ClientID), p.source("client_id"), fromEnv(EnvClientID), def(DefaultClientID)))
	if t.ClientID == "" || strings.ContainsAny(t.ClientID, " \t\r\n") {
		return nil, p.explain("client_id", t.Origins["client_id"], "client id", badValue("it must be one word", "client id %q is not valid: it must be one word", t.ClientID))
	}

	scopes := pick("scopes", flag("scopes", f.Scopes), p.source("oauth_scopes"), def(DefaultScopes))
	if t.Scopes, err = ParseScopes(scopes); err != nil {
		return nil, p.explain("oauth_scopes", t.Origins["scopes"], "scope list", err)
	}

	redirect := pick("redirect_url", flag("redirect-url", f.RedirectURL), p.source("oauth_redirect_url"), def(DefaultRedirectURL))
	if t.RedirectURL, err = checkRedirectURL(redirect); err != nil {
		return nil, p.explain("oauth_redirect_url", t.Origins["redirect_url"], "redirect URL", err)
	}

	if p != nil {
		t.HTTPPath = pick("http_path", p.source("http_path"))
		t.AuthType = pick("auth_type", p.source("auth_type"))
		if t.HTTPPath == "" {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s of %s has no http_path: dbt-databricks will refuse to connect with it", p.where(), p.profilesFile))
		}
		t.TokenServed = p.tokenServed
		if p.tokenServed {
			t.Origins["token"] = p.origin("token")
		}
	}
	t.Warnings = append(t.Warnings, decideAuth(t, p, env)...)
	return t, nil
}

// explain says where a bad value, which is not a valid what, came from:
// the line of profiles.yml when the profile's key gave it, else its origin.
// A value the profile rendered from env_var() is not quoted.
func (p *dbtTarget) explain(key string, origin Origin, what string, err error) error {
	if p != nil && origin == p.origin(key) && p.get(key) != "" {
		if p.fromEnv(key) {
			return p.envFieldError(key, what, err)
		}
		return p.fieldError(key, err)
	}
	err = fmt.Errorf("%w (from %s)", err, origin)
	if strings.HasPrefix(string(origin), "flag ") {
		return &FlagError{err}
	}
	return err
}

// FlagError is a value given on the command line that is not valid: a
// usage error, where the same value from a profile or the environment is
// one of configuration.
type FlagError struct{ err error }

func (e *FlagError) Error() string { return e.err.Error() }
func (e *FlagError) Unwrap() error { return e.err }

// source is a candidate value and where it came from; "" means unset.
type source struct {
	value  string
	origin Origin
}

// decideAuth sets how t authenticates, in dbt-databricks' order: token,
// Entra ID service principal, Databricks service principal, browser login.
// A client secret is only ever used with the client id it came with.
func decideAuth(t *Target, p *dbtTarget, env Env) (warnings []string) {
	switch {
	case p.get("token") != "":
		t.Auth, t.Token = AuthPAT, p.get("token")
		t.Origins["token"] = p.origin("token")
		return nil
	case p.get("azure_client_id") != "":
		t.Auth = AuthAzureServicePrincipal
		t.AzureClientID, t.AzureClientSecret = p.get("azure_client_id"), p.get("azure_client_secret")
		t.Origins["azure_client_id"], t.Origins["azure_client_secret"] = p.origin("azure_client_id"), p.origin("azure_client_secret")
		return nil
	}

	var secret source
	switch t.Origins["client_id"] {
	case p.source("client_id").origin:
		secret = p.source("client_secret")
	case Origin("env " + EnvClientID):
		secret = source{env.Get(EnvServicePrincipalSecret), Origin("env " + EnvServicePrincipalSecret)}
	default:
		if p.get("client_secret") != "" {
			warnings = append(warnings, fmt.Sprintf("--client-id %s replaces the client_id of %s, so its client_secret is not used: logging in as a user of %s instead", t.ClientID, p.where(), t.ClientID))
		}
	}
	if secret.value != "" {
		t.Auth, t.ServicePrincipalSecret = AuthServicePrincipal, secret.value
		t.Origins["client_secret"] = secret.origin
		return warnings
	}
	if env.Get(EnvServicePrincipalSecret) != "" && env.Get(EnvClientID) == "" {
		warnings = append(warnings, fmt.Sprintf("%s is set without %s, so it is not used", EnvServicePrincipalSecret, EnvClientID))
	}
	if id := env.Get(EnvClientID); id != "" && id != t.ClientID && t.Origins["client_id"] != Origin("flag --client-id") {
		// The profile won over the environment, as dbt has it; a flag
		// winning is no news.
		what := fmt.Sprintf("%s is %q", EnvClientID, id)
		if env.Get(EnvServicePrincipalSecret) != "" {
			what += " (a service principal, with " + EnvServicePrincipalSecret + ")"
		}
		warnings = append(warnings, fmt.Sprintf("%s, but %s gives the client id %s, and that one is used (pass --client-id to choose another)", what, t.Origins["client_id"], t.ClientID))
	}
	t.Auth = AuthLogin
	if t.ClientSecret = env.Get(EnvClientSecret); t.ClientSecret != "" {
		t.Origins["client_secret"] = Origin("env " + EnvClientSecret)
	}
	return warnings
}

// hostWarnings tells when a host given outside the profile disagrees with
// the profile's: --host, which wins, or an ambient DATABRICKS_HOST, which
// dbt ignores and so does dbtdbx. Both compare normalised.
func hostWarnings(t *Target, p *dbtTarget, env Env) []string {
	// The profile's host is not quoted when it came from env_var().
	theirs := func(h string) string {
		if p.fromEnv("host") {
			return "the host of " + p.envCalls("host")
		}
		return h
	}
	if t.Origins["host"] != p.origin("host") {
		if h, err := NormalizeHost(p.get("host")); err == nil && h != t.Host {
			return []string{fmt.Sprintf("--host %s is used instead of the host of %s (%s)", t.Host, p.where(), theirs(h))}
		}
		return nil
	}
	v := env.Get(EnvHost)
	ambient, err := NormalizeHost(v)
	if v == "" || err == nil && ambient == t.Host {
		return nil
	}
	if err != nil {
		// Not quoted: the value may hold a password, or lines of its own.
		why := "it is not a workspace host"
		if ve := (*valueError)(nil); errors.As(err, &ve) {
			why = ve.reason
		}
		return []string{fmt.Sprintf("%s is set but not used (%s): %s says %s, and dbtdbx uses the profile's host, as dbt does", EnvHost, why, p.where(), theirs(t.Host))}
	}
	return []string{fmt.Sprintf("%s is %s, but %s says %s: using the profile's host, as dbt does (pass --host to choose another)", EnvHost, ambient, p.where(), theirs(t.Host))}
}

// ParseScopes splits a scope list written with spaces or commas, drops
// duplicates and offline_access (which login adds on its own), and keeps
// the order given.
func ParseScopes(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, sc := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		if sc == OfflineAccess || seen[sc] {
			continue
		}
		for _, r := range sc {
			if r < 0x21 || r == '"' || r == '\\' || r > 0x7e {
				return nil, badValue("a scope in it is not a valid OAuth scope", "scope %q is not a valid OAuth scope", sc)
			}
		}
		seen[sc] = true
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, badValue("it names no scope: use all-apis or sql", "scopes %q name no scope: use all-apis or sql", s)
	}
	return out, nil
}

// checkRedirectURL accepts only loopback http URLs, which is what a local
// listener can serve. It returns the URL unchanged: the redirect URI must
// match what the app registered to the character.
func checkRedirectURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", badValue("it must look like http://localhost:8020 (a loopback http URL the app connection registers)", "redirect URL %q must look like http://localhost:8020 (a loopback http URL the app connection registers)", raw)
	}
	if !IsLoopback(u.Hostname()) {
		return "", badValue("it must point at this machine (localhost, 127.0.0.1 or [::1])", "redirect URL %q must point at this machine (localhost, 127.0.0.1 or [::1])", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", badValue("it must not carry a query, fragment or user", "redirect URL %q must not carry a query, fragment or user", raw)
	}
	if p := u.Port(); p != "" && !validPort(p) {
		return "", badValue("it has an invalid port", "redirect URL %q has an invalid port %q", raw, p)
	}
	return raw, nil
}
