package oauthtest

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
)

// Authorize plays a browser on another machine: it opens authURL, signs in
// and consents through the server's login and consent app, and returns the
// address the browser is finally sent to on redirectURL's host and path,
// without loading it. That is the address a user copies from the address bar
// when the browser cannot reach the listener.
func Authorize(t T, authURL, redirectURL string) *url.URL {
	t.Helper()
	redirect, err := url.Parse(redirectURL)
	if err != nil {
		t.Fatalf("redirect URL %q: %v", redirectURL, err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	client := &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == redirect.Host && samePath(req.URL.Path, redirect.Path) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize: %s, not a redirect to %s", resp.Status, redirectURL)
	}
	if loc.Host != redirect.Host || !samePath(loc.Path, redirect.Path) {
		t.Fatalf("authorize: redirected to %s, want %s", loc, redirectURL)
	}
	return loc
}

func samePath(a, b string) bool {
	return a == b || (a == "" || a == "/") && (b == "" || b == "/")
}
