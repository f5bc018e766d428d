package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token"
)

type statusOptions struct {
	*globals
	output string
}

func newStatus(g *globals) *cobra.Command {
	o := &statusOptions{globals: g}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the target and the stored login, without secrets",
		Long: `Show the resolved target (dbt project, profile and target when one is found;
host, client id, scopes, redirect URL, and where each value came from), where
the tokens are kept and when the access token expires. Makes no network call
and shows no secret. Exits 0 when a usable login (or token) is there, 4 when not.`,
		Example: `  dbtdbx status
  dbtdbx status -t prod
  dbtdbx status -o json | jq .logged_in`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context()) },
	}
	choiceVarP(c.Flags(), &o.output, "output", "o", "text", "output format", []string{"text", "json"}, "output format: text or json")
	return c
}

// statusReport is status -o json. Values nobody set are null; origins say
// where each value came from ("default" for defaults).
type statusReport struct {
	ProjectDir   *string                  `json:"project_dir"`
	ProfilesFile *string                  `json:"profiles_file"`
	Profile      *string                  `json:"profile"`
	Target       *string                  `json:"target"`
	Host         string                   `json:"host"`
	HTTPPath     *string                  `json:"http_path"`
	ClientID     string                   `json:"client_id"`
	AuthType     *string                  `json:"auth_type"`
	Auth         config.Auth              `json:"auth"`
	Scopes       []string                 `json:"scopes"`
	RedirectURL  string                   `json:"redirect_url"`
	ClientSecret bool                     `json:"client_secret_set"`
	TokenServed  bool                     `json:"token_served"`
	Origins      map[string]config.Origin `json:"origins"`
	Warnings     []string                 `json:"warnings"`

	Store        string     `json:"store"`
	StoreNote    string     `json:"store_note,omitempty"`
	LoggedIn     bool       `json:"logged_in"`
	Reason       string     `json:"reason,omitempty"`
	Granted      []string   `json:"granted_scopes,omitempty"`
	Expiry       *time.Time `json:"expiry,omitempty"`
	RefreshToken bool       `json:"refresh_token_stored"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (o *statusOptions) run(_ context.Context) error {
	t, err := o.target()
	if err != nil {
		return err
	}
	r := statusReport{
		ProjectDir: optional(t.ProjectDir), ProfilesFile: optional(t.ProfilesFile),
		Profile: optional(t.Profile), Target: optional(t.TargetName),
		Host: t.Host, HTTPPath: optional(t.HTTPPath), ClientID: t.ClientID,
		AuthType: optional(t.AuthType), Auth: t.Auth, Scopes: t.Scopes, RedirectURL: t.RedirectURL,
		ClientSecret: t.ClientSecret != "" || t.ServicePrincipalSecret != "", TokenServed: t.TokenServed,
		Origins: t.Origins, Warnings: append([]string{}, t.Warnings...),
	}
	if err := o.loginState(t, &r); err != nil {
		return err
	}

	if o.output == "json" {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printStatus(o.stdout, t, &r)
	}
	if t.Auth == config.AuthAzureServicePrincipal {
		return azureUnsupported(t)
	}
	if !r.LoggedIn {
		return withHint(fmt.Errorf("%w: %s", token.ErrLoginRequired, r.Reason), loginHint(t))
	}
	return nil
}

// loginState fills the store and login fields of r, without network.
func (o *statusOptions) loginState(t *config.Target, r *statusReport) error {
	switch t.Auth {
	case config.AuthPAT:
		r.Store, r.LoggedIn = "none: a personal access token in "+t.ProfilesFile, true
		return nil
	case config.AuthAzureServicePrincipal:
		r.Store = "none"
		r.Reason = "Entra ID service principals (" + string(t.Auth) + ") are not supported by this version yet"
		return nil
	}
	store, err := o.store()
	if err != nil {
		return err
	}
	e, err := store.Load(token.Key{Host: t.Host, ClientID: t.ClientID})
	// Where after Load: the default store may have just fallen back to the file.
	r.Store, r.StoreNote = store.Where(), o.storeNote
	if t.Auth == config.AuthServicePrincipal {
		// The client-credentials grant needs no login; a cached token may be there.
		r.LoggedIn = true
		if err == nil {
			r.Expiry = &e.Expiry
		} else if !errors.Is(err, token.ErrNotFound) && !errors.Is(err, token.ErrCorrupt) {
			return err
		}
		return nil
	}
	switch {
	case errors.Is(err, token.ErrNotFound):
		r.Reason = "no login stored"
	case errors.Is(err, token.ErrCorrupt):
		r.Reason = err.Error()
	case err != nil:
		return err
	default:
		r.Granted, r.RefreshToken = e.Scopes, e.RefreshToken != ""
		exp := e.Expiry
		r.Expiry = &exp
		switch missing := e.HasScopes(t.Scopes); {
		case len(missing) > 0:
			r.Reason = "the stored login was not granted " + strings.Join(missing, ", ")
		case !r.RefreshToken && time.Until(e.Expiry) <= token.Floor:
			r.Reason = "the access token has expired and no refresh token is stored"
		default:
			r.LoggedIn = true
		}
	}
	return nil
}

func printStatus(w io.Writer, t *config.Target, r *statusReport) {
	line := func(label, value, field string) {
		if o := t.Origins[field]; o != "" && field != "" {
			value += "  [" + string(o) + "]" // origins hold parentheses of their own
		}
		if label != "" {
			label += ":"
		}
		fmt.Fprintf(w, "%-14s %s\n", label, value)
	}
	if t.ProjectDir != "" {
		line("Project", t.ProjectDir, "project_dir")
		line("Profiles", t.ProfilesFile, "profiles_file")
		line("Profile", t.Profile, "profile")
		line("Target", t.TargetName, "target")
	}
	line("Host", t.Host, "host")
	if t.HTTPPath != "" {
		line("HTTP path", t.HTTPPath, "http_path")
	}
	line("Auth", string(t.Auth), "")
	if t.AuthType != "" {
		line("auth_type", t.AuthType, "auth_type")
	}
	switch t.Auth {
	case config.AuthPAT:
		// No OAuth client takes part.
	case config.AuthAzureServicePrincipal:
		line("Azure client", t.AzureClientID, "")
	default:
		line("Client ID", t.ClientID, "client_id")
		if r.ClientSecret {
			line("Client secret", "set", "client_secret")
		}
		line("Scopes", strings.Join(t.Scopes, " "), "scopes")
		line("Redirect URL", t.RedirectURL, "redirect_url")
	}
	if t.TokenServed {
		line("Token", "served by dbtdbx as DATABRICKS_TOKEN (dbtdbx exec, dbtdbx env)", "")
	}
	line("Store", r.Store, "")
	if r.StoreNote != "" {
		line("", r.StoreNote, "")
	}
	for _, wn := range r.Warnings {
		line("Warning", wn, "")
	}
	if !r.LoggedIn {
		line("Login", "none usable ("+r.Reason+")", "")
		return
	}
	if t.Auth == config.AuthServicePrincipal {
		state := "not needed: tokens come from the client-credentials grant"
		if r.Expiry != nil {
			state += "; cached token valid until " + r.Expiry.Local().Format(time.DateTime)
		}
		line("Login", state, "")
		return
	}
	if r.Expiry == nil {
		line("Login", "not needed", "")
		return
	}
	left := time.Until(*r.Expiry).Round(time.Second)
	state := fmt.Sprintf("access token valid until %s (%s left)", r.Expiry.Local().Format(time.DateTime), left)
	if left <= 0 {
		state = "access token expired at " + r.Expiry.Local().Format(time.DateTime)
	}
	if r.RefreshToken {
		state += "; refreshed automatically"
	} else if left > 0 {
		state += "; no refresh token: log in again before then"
	}
	line("Login", state, "")
	line("Granted", strings.Join(r.Granted, " "), "")
}
