package oauthtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

func TestStart(t *testing.T) {
	begin := time.Now()
	oauthtest.Start(t, oauthtest.Options{})
	t.Logf("Start took %v", time.Since(begin))
}

func TestDiscovery(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	doc := discover(t, srv)
	want := map[string]string{
		"issuer":                 srv.URL + "/oidc",
		"authorization_endpoint": srv.URL + "/oidc/v1/authorize",
		"token_endpoint":         srv.URL + "/oidc/v1/token",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	jwks, ok := doc["jwks_uri"].(string)
	if !ok {
		t.Fatalf("jwks_uri = %v", doc["jwks_uri"])
	}
	resp, err := http.Get(jwks)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", jwks, resp.Status)
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	redirectURI := fmt.Sprintf("http://127.0.0.1:%d/callback", oauthtest.FreePort(t))
	const id = "dbtdbx-test"
	if got := srv.CreateClient(t, oauthtest.Client{ID: id, RedirectURIs: []string{redirectURI}}); got != id {
		t.Fatalf("CreateClient = %q, want %q", got, id)
	}
	conf := config(t, srv, id, redirectURI)

	// PKCE is enforced for public clients.
	if q := authorize(t, conf, "state-without-pkce"); q.Get("error") != "invalid_request" {
		t.Errorf("authorization without PKCE: %v, want error=invalid_request", q)
	} else {
		t.Logf("authorization without PKCE: %v", q)
	}

	verifier := oauth2.GenerateVerifier()
	q := authorize(t, conf, "state-with-pkce", oauth2.S256ChallengeOption(verifier))
	code := mustCode(t, q, "state-with-pkce")
	if _, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("Exchange with the wrong verifier succeeded")
	}
	// The failed exchange used the code up: authorize again.
	q = authorize(t, conf, "state-with-pkce", oauth2.S256ChallengeOption(verifier))
	code = mustCode(t, q, "state-with-pkce")
	tok, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	wantSecrets(t, srv, code, verifier, tok.AccessToken, tok.RefreshToken)
	t.Logf("token response: token_type=%q expires_in=%v scope=%q id_token=%t",
		tok.TokenType, tok.Extra("expires_in"), tok.Extra("scope"), tok.Extra("id_token") != nil)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token although offline_access was granted")
	}
	if !srv.TokenAccepted(t, tok.AccessToken) {
		t.Error("access token not accepted")
	}
	if srv.TokenAccepted(t, tok.RefreshToken) {
		t.Error("refresh token accepted as an access token")
	}
	if srv.TokenAccepted(t, "nonsense") {
		t.Error("nonsense token accepted")
	}
	if !srv.RefreshTokenActive(t, tok.RefreshToken) {
		t.Error("refresh token not active")
	}

	// Refresh once: the refresh token rotates.
	refreshed, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh token not rotated: %q", refreshed.RefreshToken)
	}
	if srv.RefreshTokenActive(t, tok.RefreshToken) {
		t.Error("old refresh token still active after rotation")
	}
	if !srv.RefreshTokenActive(t, refreshed.RefreshToken) {
		t.Error("new refresh token not active")
	}
	if !srv.TokenAccepted(t, refreshed.AccessToken) {
		t.Error("refreshed access token not accepted")
	}
	wantSecrets(t, srv, refreshed.AccessToken, refreshed.RefreshToken)

	want := map[string]int{"authorization_code": 2, "refresh_token": 1}
	if got := srv.TokenRequests(); !maps.Equal(got, want) {
		t.Errorf("TokenRequests = %v, want %v", got, want)
	}

	// Reusing the old refresh token fails and revokes the whole chain.
	_, err = conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var rerr *oauth2.RetrieveError
	if !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_grant" {
		t.Fatalf("reusing a refresh token: %v, want invalid_grant", err)
	}
	t.Logf("reusing a refresh token: %s: %s", rerr.ErrorCode, rerr.ErrorDescription)
	if srv.RefreshTokenActive(t, refreshed.RefreshToken) {
		t.Error("new refresh token still active after the old one was reused")
	}
	if srv.TokenAccepted(t, refreshed.AccessToken) {
		t.Error("new access token still accepted after the old refresh token was reused")
	}
	want["refresh_token"]++
	if got := srv.TokenRequests(); !maps.Equal(got, want) {
		t.Errorf("TokenRequests = %v, want %v", got, want)
	}
}

func TestConsentDenied(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	redirectURI := fmt.Sprintf("http://127.0.0.1:%d/callback", oauthtest.FreePort(t))
	id := srv.CreateClient(t, oauthtest.Client{RedirectURIs: []string{redirectURI}})
	if id == "" {
		t.Fatal("CreateClient returned no client_id")
	}
	conf := config(t, srv, id, redirectURI)

	srv.SetConsent(false)
	const state = "some-state"
	q := authorize(t, conf, state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	if q.Get("error") != "access_denied" || q.Get("state") != state || q.Has("code") {
		t.Errorf("redirect query = %v, want error=access_denied and state", q)
	}
	t.Logf("denied: %v", q)

	srv.SetConsent(true)
	q = authorize(t, conf, state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	mustCode(t, q, state)
	if got := srv.TokenRequests(); len(got) != 0 {
		t.Errorf("TokenRequests = %v, want none", got)
	}
}

func TestClientCredentials(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{AccessTokenTTL: 30 * time.Second})
	const secret = "s3cret-s3cret-s3cret"
	id := srv.CreateClient(t, oauthtest.Client{
		Secret:     secret,
		GrantTypes: []string{"client_credentials"},
	})
	doc := discover(t, srv)
	conf := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     doc["token_endpoint"].(string),
		Scopes:       []string{"all-apis"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := conf.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if !srv.TokenAccepted(t, tok.AccessToken) {
		t.Error("access token not accepted")
	}
	if ttl := time.Until(tok.Expiry); ttl > 30*time.Second || ttl < 20*time.Second {
		t.Errorf("token expires in %v, want about 30s", ttl)
	}
	if tok.RefreshToken != "" {
		t.Error("client_credentials returned a refresh token")
	}
	wantSecrets(t, srv, secret, tok.AccessToken)

	conf.ClientSecret = "wrong"
	if _, err := conf.Token(t.Context()); err == nil {
		t.Error("Token with a wrong secret succeeded")
	}
	if got, want := srv.TokenRequests(), map[string]int{"client_credentials": 2}; !maps.Equal(got, want) {
		t.Errorf("TokenRequests = %v, want %v", got, want)
	}
}

// wantSecrets checks that srv.Secrets includes each of secrets.
func wantSecrets(t *testing.T, srv *oauthtest.Server, secrets ...string) {
	t.Helper()
	seen := srv.Secrets()
	for i, s := range secrets {
		if !slices.Contains(seen, s) {
			t.Errorf("Secrets lacks secret #%d (%.8q...)", i, s)
		}
	}
}

// discover fetches the front's discovery document.
func discover(t *testing.T, srv *oauthtest.Server) map[string]any {
	t.Helper()
	resp, err := http.Get(srv.URL + "/oidc/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %s", resp.Status)
	}
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return doc
}

// config returns the configuration of a public client using the front's
// discovered endpoints.
func config(t *testing.T, srv *oauthtest.Server, clientID, redirectURI string) *oauth2.Config {
	t.Helper()
	doc := discover(t, srv)
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   doc["authorization_endpoint"].(string),
			TokenURL:  doc["token_endpoint"].(string),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
		Scopes:      []string{"all-apis", "offline_access"},
	}
}

// authorize plays the browser: it opens the authorization URL and follows
// redirects until one points at the redirect URI, whose query it returns.
// Hydra wants a state of 8 characters or more.
func authorize(t *testing.T, conf *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) url.Values {
	t.Helper()
	return oauthtest.Authorize(t, conf.AuthCodeURL(state, opts...), conf.RedirectURL).Query()
}

// mustCode returns the code of a successful authorization's redirect query.
func mustCode(t *testing.T, q url.Values, state string) string {
	t.Helper()
	if q.Get("state") != state {
		t.Fatalf("redirect state = %q, want %q", q.Get("state"), state)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code in redirect: %v", q)
	}
	return code
}
