package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzCallback sends the loopback listener's handler arbitrary paths and
// queries: it never panics, never delivers a callback without the login's
// state, never shows a code or the state in its page, and delivers at most
// one outcome.
func FuzzCallback(f *testing.F) {
	const state = "s3cr3t-state-0123456789"
	for _, seed := range []string{
		"/cb?code=c&state=" + state,
		"/cb?error=access_denied&error_description=no&state=" + state,
		"/cb?state=" + state,
		"/cb?code=c&state=wrong",
		"/cb?code=c",
		"/favicon.ico",
		"/cb/../cb?state=" + state + "&code=%00",
		"/cb?state=" + state + "&state=other&code=a&code=b",
		"/cb?%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		results := make(chan callbackResult, 2)
		cb := newCallback("/cb", state, results)
		cb.finish(nil)
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		req.URL, req.RequestURI = u, target
		rec := httptest.NewRecorder()
		cb.ServeHTTP(rec, req)
		q := u.Query()
		delivered := len(results)
		if delivered > 1 {
			t.Fatalf("%d outcomes delivered", delivered)
		}
		if delivered == 1 && (u.Path != "/cb" || q.Get("state") != state) {
			t.Fatalf("delivered a callback for path %q state %q", u.Path, q.Get("state"))
		}
		body := rec.Body.String()
		if strings.Contains(body, state) || q.Get("code") != "" && len(q.Get("code")) > 3 && strings.Contains(body, q.Get("code")) {
			t.Fatalf("the page shows a secret: %q", body)
		}
		if u.Path != "/cb" && rec.Code != http.StatusNotFound {
			t.Fatalf("path %q answered %d, want 404", u.Path, rec.Code)
		}
	})
}

// FuzzParseDiscovery feeds the discovery parser arbitrary documents: it
// never panics, and what it accepts has two absolute http(s) endpoints.
func FuzzParseDiscovery(f *testing.F) {
	for _, seed := range []string{
		`{"authorization_endpoint":"https://h/oidc/v1/authorize","token_endpoint":"https://h/oidc/v1/token"}`,
		`{"authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://h/t"}`,
		`{"authorization_endpoint":"https://h/a"}`,
		`[]`, `null`, `{"token_endpoint":17}`, `<html>`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ep, err := ParseDiscovery(doc, "https://h/oidc/.well-known/oauth-authorization-server")
		if err != nil {
			return
		}
		for _, v := range []string{ep.AuthURL, ep.TokenURL} {
			u, err := url.Parse(v)
			if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
				t.Fatalf("accepted endpoint %q", v)
			}
		}
	})
}
