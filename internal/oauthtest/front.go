package oauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Databricks' paths served by the front.
const (
	discoveryPath = "/oidc/.well-known/oauth-authorization-server"
	authorizePath = "/oidc/v1/authorize"
	tokenPath     = "/oidc/v1/token"
	jwksPath      = "/oidc/jwks.json"
	mePath        = "/api/2.0/preview/scim/v2/Me"
)

// subject is the user the login app signs in.
const subject = "user@example.com"

// frontHandler serves Databricks' URL layout in front of hydra's public port.
func (s *Server) frontHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, s.serveDiscovery)
	mux.Handle(authorizePath, s.proxy("/oauth2/auth", nil))
	mux.Handle(tokenPath, s.observeTokenRequest(s.proxy("/oauth2/token", s.observeTokenResponse)))
	mux.Handle(jwksPath, s.proxy("/.well-known/jwks.json", nil))
	mux.HandleFunc("GET "+mePath, s.serveMe)
	// Hydra's own paths: the /oauth2/auth continuation after login and
	// consent, /oauth2/fallbacks, and so on.
	mux.Handle("/", s.proxy("", nil))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths[r.URL.Path]++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

// proxy returns a reverse proxy to hydra's public port. A non-empty path
// replaces the request's path; the query is kept either way. Every
// response's Location is searched for an authorization code, and then
// passed to modify, if not nil.
func (s *Server) proxy(path string, modify func(*http.Response) error) http.Handler {
	target, err := url.Parse(s.publicURL)
	if err != nil {
		panic(err) // s.publicURL is built by startHydra
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// A client that goes away (a killed dbtdbx) must not cancel
			// hydra's half of the request: hydra's in-memory database
			// does not recover from a transaction cancelled midway, and a
			// real workspace does not care either.
			r.Out = r.Out.WithContext(context.WithoutCancel(r.Out.Context()))
			if path != "" {
				r.Out.URL.Path, r.Out.URL.RawPath = path, ""
			}
			// Let hydra see the host the client used, as behind a
			// real load balancer. Hydra builds its redirects from its
			// configured public URL, which is the front.
			r.Out.Host = r.In.Host
			// Get responses uncompressed, so that modify can read them.
			r.Out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: func(resp *http.Response) error {
			if loc, err := resp.Location(); err == nil {
				s.recordSecrets(loc.Query().Get("code"))
			}
			if modify == nil {
				return nil
			}
			return modify(resp)
		},
	}
}

// observeTokenRequest counts token requests by grant_type and records the
// secrets they carry before passing them on.
func (s *Server) observeTokenRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		s.countTokenRequest(form.Get("grant_type"))
		s.recordSecrets(form.Get("code"), form.Get("code_verifier"), form.Get("refresh_token"), form.Get("client_secret"))
		if _, password, ok := r.BasicAuth(); ok {
			s.recordSecrets(password)
		}
		next.ServeHTTP(w, r)
	})
}

// observeTokenResponse records the tokens of a token response.
func (s *Server) observeTokenResponse(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if json.Unmarshal(body, &tokens) == nil {
		s.recordSecrets(tokens.AccessToken, tokens.RefreshToken, tokens.IDToken)
	}
	return nil
}

// serveDiscovery serves hydra's discovery document rewritten to Databricks'
// endpoints.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, s.publicURL+"/.well-known/openid-configuration", nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var doc map[string]any
	if err := s.do(req, &doc); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	doc["issuer"] = s.URL + "/oidc"
	doc["authorization_endpoint"] = s.URL + authorizePath
	doc["token_endpoint"] = s.URL + tokenPath
	doc["jwks_uri"] = s.URL + jwksPath
	writeJSON(w, http.StatusOK, doc)
}

// serveMe answers the SCIM "who am I" call when the bearer token is an
// active access token, and 401 otherwise.
func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	token, ok := bearerToken(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, databricksError("Credential was not sent or was of an unsupported type for this API."))
		return
	}
	info, err := s.introspect(r.Context(), token)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if !info.Active || info.TokenUse != "access_token" {
		writeJSON(w, http.StatusUnauthorized, databricksError("Invalid access token."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": info.Subject,
	})
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// databricksError is the body of a Databricks REST API error.
func databricksError(message string) map[string]string {
	return map[string]string{"error_code": "UNAUTHENTICATED", "message": message}
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// appHandler is the login and consent app hydra sends the browser to. It
// plays the user: it signs in as user@example.com and grants every
// requested scope, or refuses when SetConsent(false) was called.
func (s *Server) appHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.serveLogin)
	mux.HandleFunc("GET /consent", s.serveConsent)
	return mux
}

// completion is hydra's answer to accepting or rejecting a request.
type completion struct {
	RedirectTo string `json:"redirect_to"`
}

// serveLogin accepts the login request.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("login_challenge")
	if challenge == "" {
		http.Error(w, "missing login_challenge", http.StatusBadRequest)
		return
	}
	q := url.Values{"login_challenge": {challenge}}
	accept := map[string]any{"subject": subject, "remember": false}
	var done completion
	if err := s.admin(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/login/accept", q, accept, &done); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, done.RedirectTo, http.StatusFound)
}

// serveConsent grants the requested scopes and audiences, or refuses with
// access_denied.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("consent_challenge")
	if challenge == "" {
		http.Error(w, "missing consent_challenge", http.StatusBadRequest)
		return
	}
	q := url.Values{"consent_challenge": {challenge}}
	var done completion
	if s.deny.Load() {
		reject := map[string]string{
			"error":             "access_denied",
			"error_description": "The user denied the request",
		}
		if err := s.admin(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/consent/reject", q, reject, &done); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, done.RedirectTo, http.StatusFound)
		return
	}
	var consent struct {
		Scope    []string `json:"requested_scope"`
		Audience []string `json:"requested_access_token_audience"`
	}
	if err := s.admin(r.Context(), http.MethodGet, "/admin/oauth2/auth/requests/consent", q, nil, &consent); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	accept := map[string]any{
		"grant_scope":                 consent.Scope,
		"grant_access_token_audience": consent.Audience,
		"remember":                    false,
	}
	if err := s.admin(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/consent/accept", q, accept, &done); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, done.RedirectTo, http.StatusFound)
}
