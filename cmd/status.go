package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		Long: `Show the resolved target (host, client id, scopes, redirect URL, and where each
came from), where the tokens are kept and when the access token expires. Makes
no network call. Exits 0 when a usable login is stored, 4 when not.`,
		Example: `  dbtdbx status
  dbtdbx status -o json | jq .logged_in`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context()) },
	}
	c.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return c
}

type valueReport struct {
	Value  any           `json:"value"`
	Origin config.Origin `json:"origin"`
}

type statusReport struct {
	Host         valueReport `json:"host"`
	ClientID     valueReport `json:"client_id"`
	ClientSecret bool        `json:"client_secret_set"`
	Scopes       valueReport `json:"scopes"`
	RedirectURL  valueReport `json:"redirect_url"`
	Store        string      `json:"store"`
	LoggedIn     bool        `json:"logged_in"`
	Reason       string      `json:"reason,omitempty"`
	Granted      []string    `json:"granted_scopes,omitempty"`
	Expiry       *time.Time  `json:"expiry,omitempty"`
	RefreshToken bool        `json:"refresh_token_stored"`
}

func (o *statusOptions) run(_ context.Context) error {
	if err := outputFormat(o.output, "text", "json"); err != nil {
		return err
	}
	t, err := o.target()
	if err != nil {
		return err
	}
	store, err := o.store()
	if err != nil {
		return err
	}
	r := statusReport{
		Host:         valueReport{t.Host, t.Origins["host"]},
		ClientID:     valueReport{t.ClientID, t.Origins["client_id"]},
		ClientSecret: t.ClientSecret != "",
		Scopes:       valueReport{t.Scopes, t.Origins["scopes"]},
		RedirectURL:  valueReport{t.RedirectURL, t.Origins["redirect_url"]},
		Store:        store.Where(),
	}
	e, err := store.Load(token.Key{Host: t.Host, ClientID: t.ClientID})
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
		left := time.Until(e.Expiry)
		switch missing := e.HasScopes(t.Scopes); {
		case len(missing) > 0:
			r.Reason = "the stored login was not granted " + strings.Join(missing, ", ")
		case !r.RefreshToken && left <= token.Floor:
			r.Reason = "the access token has expired and no refresh token is stored"
		default:
			r.LoggedIn = true
		}
	}

	if o.output == "json" {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		o.printText(&r)
	}
	if !r.LoggedIn {
		return withHint(fmt.Errorf("%w: %s", token.ErrLoginRequired, r.Reason), loginHint(t))
	}
	return nil
}

func (o *statusOptions) printText(r *statusReport) {
	w := o.stdout
	fmt.Fprintf(w, "Host:          %v (%s)\n", r.Host.Value, r.Host.Origin)
	fmt.Fprintf(w, "Client ID:     %v (%s)\n", r.ClientID.Value, r.ClientID.Origin)
	if r.ClientSecret {
		fmt.Fprintf(w, "Client secret: set (env %s)\n", config.EnvClientSecret)
	}
	fmt.Fprintf(w, "Scopes:        %s (%s)\n", strings.Join(r.Scopes.Value.([]string), " "), r.Scopes.Origin)
	fmt.Fprintf(w, "Redirect URL:  %v (%s)\n", r.RedirectURL.Value, r.RedirectURL.Origin)
	fmt.Fprintf(w, "Store:         %s\n", r.Store)
	if !r.LoggedIn {
		fmt.Fprintf(w, "Login:         none usable (%s)\n", r.Reason)
		return
	}
	left := time.Until(*r.Expiry).Round(time.Second)
	state := fmt.Sprintf("access token valid until %s (%s left)", r.Expiry.Local().Format(time.DateTime), left)
	if left <= 0 {
		state = "access token expired at " + r.Expiry.Local().Format(time.DateTime)
	}
	if r.RefreshToken {
		state += "; refreshed automatically"
	}
	fmt.Fprintf(w, "Login:         %s\n", state)
	fmt.Fprintf(w, "Granted:       %s\n", strings.Join(r.Granted, " "))
}
