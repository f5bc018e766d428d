// Package config turns flags and the environment into one resolved Target:
// the workspace, the OAuth client and the scopes a command works for.
// Every resolved value records where it came from, so status can explain it.
package config

import (
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
	EnvHost         = "DATABRICKS_HOST"
	EnvClientID     = "DATABRICKS_CLIENT_ID"
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
	if e.LookupEnv == nil {
		return ""
	}
	v, _ := e.LookupEnv(name)
	return v
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
	// "profile", "target", ...) to where its value came from.
	Origins map[string]Origin
}

// Resolve builds the Target from flags, then the environment, then defaults.
// It validates every value and names the bad one on error.
func Resolve(f Flags, env Env) (*Target, error) {
	getenv := env.Get
	t := &Target{Origins: map[string]Origin{}, Auth: AuthLogin}
	pick := func(field, flagName, flagVal, envName, def string) string {
		switch {
		case flagVal != "":
			t.Origins[field] = Origin("flag --" + flagName)
			return flagVal
		case envName != "" && getenv(envName) != "":
			t.Origins[field] = Origin("env " + envName)
			return getenv(envName)
		default:
			t.Origins[field] = OriginDefault
			return def
		}
	}

	host := pick("host", "host", f.Host, EnvHost, "")
	if host == "" {
		return nil, fmt.Errorf("no workspace host: pass --host https://<workspace> or set %s", EnvHost)
	}
	var err error
	if t.Host, err = NormalizeHost(host); err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, t.Origins["host"])
	}

	t.ClientID = strings.TrimSpace(pick("client_id", "client-id", f.ClientID, EnvClientID, DefaultClientID))
	if t.ClientID == "" || strings.ContainsAny(t.ClientID, " \t\r\n") {
		return nil, fmt.Errorf("client id %q (from %s) is not valid: it must be one word", t.ClientID, t.Origins["client_id"])
	}
	if t.ClientSecret = getenv(EnvClientSecret); t.ClientSecret != "" {
		t.Origins["client_secret"] = Origin("env " + EnvClientSecret)
	}

	scopes := pick("scopes", "scopes", f.Scopes, "", DefaultScopes)
	if t.Scopes, err = ParseScopes(scopes); err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, t.Origins["scopes"])
	}

	redirect := pick("redirect_url", "redirect-url", f.RedirectURL, "", DefaultRedirectURL)
	if t.RedirectURL, err = checkRedirectURL(redirect); err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, t.Origins["redirect_url"])
	}
	return t, nil
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
				return nil, fmt.Errorf("scope %q is not a valid OAuth scope", sc)
			}
		}
		seen[sc] = true
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scopes %q name no scope: use all-apis or sql", s)
	}
	return out, nil
}

// checkRedirectURL accepts only loopback http URLs, which is what a local
// listener can serve. It returns the URL unchanged: the redirect URI must
// match what the app registered to the character.
func checkRedirectURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("redirect URL %q must look like http://localhost:8020 (a loopback http URL the app connection registers)", raw)
	}
	if !IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("redirect URL %q must point at this machine (localhost, 127.0.0.1 or [::1])", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("redirect URL %q must not carry a query, fragment or user", raw)
	}
	if p := u.Port(); p != "" && !validPort(p) {
		return "", fmt.Errorf("redirect URL %q has an invalid port %q", raw, p)
	}
	return raw, nil
}
