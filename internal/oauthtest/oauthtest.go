// Package oauthtest runs a real OAuth 2.0 server for tests: Ory Hydra behind
// a small front that serves the URL layout of a Databricks workspace.
//
// The product under test is pointed at [Server.URL] as if it were a
// workspace host. It discovers the endpoints at
// /oidc/.well-known/oauth-authorization-server, sends the user's browser to
// /oidc/v1/authorize and exchanges codes and refresh tokens at
// /oidc/v1/token. Hydra does the real work behind the front: it enforces
// PKCE for public clients, rotates refresh tokens strictly and expires access
// tokens after [Options.AccessTokenTTL]. A built-in login and consent app
// plays the user who signs in as user@example.com and clicks "Allow" (or
// "Deny", see [Server.SetConsent]).
//
// Hydra is stricter than some servers: it rejects a state shorter than 8
// characters (error=invalid_state), a public client's authorization
// request without code_challenge (error=invalid_request), and a code
// after one exchange, failed or not.
//
// A typical test:
//
//	srv := oauthtest.Start(t, oauthtest.Options{})
//	id := srv.CreateClient(t, oauthtest.Client{
//		RedirectURIs: []string{"http://127.0.0.1:8020/callback"},
//	})
//	// ... run the product against srv.URL with client id ...
//	if !srv.TokenAccepted(t, tok.AccessToken) {
//		t.Error("access token not accepted")
//	}
package oauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures the server started by [Start].
type Options struct {
	// AccessTokenTTL is the lifetime of the access tokens hydra issues
	// (its TTL_ACCESS_TOKEN). The zero value means one hour.
	// golang.org/x/oauth2 treats a token as expired 10s before it really
	// is, so keep it well above 10s.
	AccessTokenTTL time.Duration
}

// Server is a running hydra plus a front that serves Databricks' URL layout.
// Create one with [Start]; it is stopped when the test ends.
type Server struct {
	// URL is the base URL of the front, such as "http://127.0.0.1:41234".
	// It is the workspace host the product is pointed at.
	URL string

	// AdminURL is the base URL of hydra's admin API.
	AdminURL string

	publicURL string       // hydra's public port, reached by the front only
	client    *http.Client // for the front's and the helpers' own calls to hydra
	deny      atomic.Bool  // whether the consent app refuses

	mu       sync.Mutex
	requests map[string]int  // token endpoint requests by grant_type
	paths    map[string]int  // front requests by path
	secrets  []string        // secrets seen, in order
	seen     map[string]bool // the elements of secrets
}

// Start starts hydra with an in-memory database, the login and consent app
// and the front, waits until hydra is ready and registers t.Cleanup to stop
// everything.
//
// Hydra enforces PKCE for public clients and rotates refresh tokens
// strictly: a refresh token works once, and reusing it revokes the whole
// chain.
//
// The hydra binary is $DBTDBX_HYDRA when set, else the one
// scripts/build-hydra.sh of the enclosing module prints (building it on
// first use). When there is none, Start skips the test, or fails it when
// the environment variable CI is "true".
func Start(t T, opts Options) *Server {
	t.Helper()
	bin := hydraBinary(t)

	s := &Server{
		client:   &http.Client{Timeout: 10 * time.Second},
		requests: make(map[string]int),
		paths:    make(map[string]int),
		seen:     make(map[string]bool),
	}

	// Bind the front's and the app's listeners first, for hydra must know
	// their URLs, but serve only once hydra is ready and s is complete.
	front := httptest.NewUnstartedServer(nil)
	t.Cleanup(front.Close)
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	s.URL = "http://" + front.Listener.Addr().String()

	ttl := opts.AccessTokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	h := startHydra(t, bin, hydraConfig{
		frontURL: s.URL,
		appURL:   "http://" + app.Listener.Addr().String(),
		tokenTTL: ttl,
	})
	s.publicURL = h.publicURL
	s.AdminURL = h.adminURL

	front.Config.Handler = s.frontHandler()
	front.Start()
	app.Config.Handler = s.appHandler()
	app.Start()
	return s
}

// Client describes an OAuth client to register with [Server.CreateClient].
type Client struct {
	// ID is the client_id. When empty, hydra picks a random one.
	ID string

	// Secret is the client secret. An empty Secret makes a public client
	// (token_endpoint_auth_method "none"), which must use PKCE; otherwise
	// the client authenticates with "client_secret_post", that is with
	// client_id and client_secret in the token request's body.
	Secret string

	// RedirectURIs are the exact redirect URIs allowed. For
	// http://127.0.0.1 URIs hydra ignores the port (RFC 8252 section 7.3);
	// the path must match exactly.
	RedirectURIs []string

	// GrantTypes are the grant types allowed. The default is
	// authorization_code and refresh_token.
	GrantTypes []string

	// Scope is the space-separated list of scopes the client may request.
	// The default is "all-apis sql offline_access". Hydra issues a refresh
	// token only when offline_access is requested.
	Scope string
}

// CreateClient registers c through hydra's admin API and returns its
// client_id.
func (s *Server) CreateClient(t T, c Client) string {
	t.Helper()
	req := struct {
		ID            string   `json:"client_id,omitempty"`
		Secret        string   `json:"client_secret,omitempty"`
		RedirectURIs  []string `json:"redirect_uris,omitempty"`
		GrantTypes    []string `json:"grant_types"`
		ResponseTypes []string `json:"response_types"`
		Scope         string   `json:"scope"`
		AuthMethod    string   `json:"token_endpoint_auth_method"`
	}{
		ID:            c.ID,
		Secret:        c.Secret,
		RedirectURIs:  c.RedirectURIs,
		GrantTypes:    c.GrantTypes,
		ResponseTypes: []string{"code"},
		Scope:         c.Scope,
		AuthMethod:    "client_secret_post",
	}
	if len(req.GrantTypes) == 0 {
		req.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if req.Scope == "" {
		req.Scope = "all-apis sql offline_access"
	}
	if c.Secret == "" {
		req.AuthMethod = "none"
	}
	var resp struct {
		ID string `json:"client_id"`
	}
	if err := s.admin(t.Context(), http.MethodPost, "/admin/clients", nil, req, &resp); err != nil {
		t.Fatalf("oauthtest: creating client: %v", err)
	}
	s.recordSecrets(c.Secret)
	return resp.ID
}

// SetConsent makes the login and consent app, which plays the user, accept
// (true, the default) or refuse (false) every authorization request from
// then on. A refusal reaches the client's redirect URI as
// error=access_denied.
func (s *Server) SetConsent(allow bool) {
	s.deny.Store(!allow)
}

// TokenAccepted reports whether the workspace currently accepts accessToken,
// by calling the front's GET /api/2.0/preview/scim/v2/Me with it.
func (s *Server) TokenAccepted(t T, accessToken string) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+mePath, nil)
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("oauthtest: checking access token: %v", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	t.Fatalf("oauthtest: checking access token: %s: %s", resp.Status, body)
	return false
}

// RefreshTokenActive reports whether hydra's token introspection says
// refreshToken is an active refresh token.
func (s *Server) RefreshTokenActive(t T, refreshToken string) bool {
	t.Helper()
	info, err := s.introspect(t.Context(), refreshToken)
	if err != nil {
		t.Fatalf("oauthtest: checking refresh token: %v", err)
	}
	return info.Active && info.TokenUse == "refresh_token"
}

// TokenRequests returns how many requests have reached the front's token
// endpoint, by grant_type ("authorization_code", "refresh_token",
// "client_credentials", ...). It is safe for concurrent use.
func (s *Server) TokenRequests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

// Requests returns how many requests have reached the front, in all and on
// the workspace's OAuth paths: "discovery", "authorize" and "token". It is
// safe for concurrent use.
func (s *Server) Requests() (all int, byPath map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byPath = map[string]int{"discovery": s.paths[discoveryPath], "authorize": s.paths[authorizePath], "token": s.paths[tokenPath]}
	for _, n := range s.paths {
		all += n
	}
	return all, byPath
}

// Secrets returns every secret the server has seen so far, in the order
// first seen: client secrets, authorization codes (in the redirects to
// the client), PKCE code verifiers, and the access, refresh and ID tokens
// of token requests and responses. A test can check that none of them
// leaked into the product's output or files. It is safe for concurrent
// use.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.secrets)
}

// recordSecrets adds the non-empty values to the secrets seen.
func (s *Server) recordSecrets(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v != "" && !s.seen[v] {
			s.seen[v] = true
			s.secrets = append(s.secrets, v)
		}
	}
}

// countTokenRequest records a request to the token endpoint.
func (s *Server) countTokenRequest(grantType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[grantType]++
}

// introspection is the part of hydra's introspection response used here.
type introspection struct {
	Active   bool   `json:"active"`
	Subject  string `json:"sub"`
	TokenUse string `json:"token_use"` // "access_token" or "refresh_token"
}

// introspect asks hydra's admin API about token.
func (s *Server) introspect(ctx context.Context, token string) (*introspection, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.AdminURL+"/admin/oauth2/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var info introspection
	if err := s.do(req, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// admin calls hydra's admin API: it sends in (if not nil) as JSON and
// decodes the JSON response into out (if not nil).
func (s *Server) admin(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := s.AdminURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.do(req, out)
}

// do sends req and decodes its JSON response into out (if not nil). A
// response other than 2xx is an error carrying the response body.
func (s *Server) do(req *http.Request, out any) error {
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(body))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return nil
}
