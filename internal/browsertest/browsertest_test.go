package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/browser"
	"golang.org/x/oauth2"

	"github.com/dbtdbx/dbtdbx/internal/browsertest"
	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

// redirectingServer serves / as a redirect to /done, a page saying "done".
func redirectingServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.RedirectHandler("/done", http.StatusFound))
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>t</title><p id=result>done</p>")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// isDone reports whether dom is the page served at /done.
func isDone(dom string) bool {
	return strings.Contains(dom, `<p id="result">done</p>`)
}

func TestOpen(t *testing.T) {
	srv := redirectingServer(t)
	begin := time.Now()
	dom, err := browsertest.Open(t, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Open took %v", time.Since(begin))
	if !isDone(dom) {
		t.Errorf("DOM = %q, want the page at /done", dom)
	}
}

func TestOpenUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens on its port any more
	if dom, err := browsertest.Open(t, srv.URL); err == nil {
		t.Errorf("Open(closed port) = %q, nil; want an error", dom)
	}
}

func TestShimDir(t *testing.T) {
	srv := redirectingServer(t)
	dir := browsertest.ShimDir(t)

	for i, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		var out bytes.Buffer
		cmd := exec.Command(filepath.Join(dir, name), srv.URL)
		cmd.Stdout = &out
		cmd.Stderr = &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.Len() != 0 {
			t.Errorf("%s printed %q, want nothing", name, out.Bytes())
		}
		n := i + 1
		dom, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("dom-%d.html", n)))
		if err != nil {
			t.Fatal(err)
		}
		if !isDone(string(dom)) {
			t.Errorf("dom-%d.html = %q, want the page at /done", n, dom)
		}
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("chromium-%d.log", n))); err != nil {
			t.Error(err)
		}
	}
}

// TestPkgBrowser opens a URL the way the product does.
func TestPkgBrowser(t *testing.T) {
	srv := redirectingServer(t)
	dir := browsertest.ShimDir(t)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out bytes.Buffer
	browser.Stdout, browser.Stderr = &out, &out
	t.Cleanup(func() { browser.Stdout, browser.Stderr = os.Stdout, os.Stderr })

	if err := browser.OpenURL(srv.URL); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("browser printed %q, want nothing", out.Bytes())
	}
	dom, err := os.ReadFile(filepath.Join(dir, "dom-1.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !isDone(string(dom)) {
		t.Errorf("dom-1.html = %q, want the page at /done", dom)
	}
}

// TestOAuthLogin drives a whole authorization through Chromium: the
// front, hydra, the login and consent app, and back to a loopback
// redirect URI.
func TestOAuthLogin(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})

	codes := make(chan string, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case codes <- r.URL.Query().Get("code"):
		default:
		}
		fmt.Fprint(w, "<p>logged in</p>")
	}))
	t.Cleanup(callback.Close)

	redirectURI := callback.URL + "/callback"
	id := srv.CreateClient(t, oauthtest.Client{RedirectURIs: []string{redirectURI}})
	conf := &oauth2.Config{
		ClientID: id,
		Endpoint: oauth2.Endpoint{
			AuthURL:   srv.URL + "/oidc/v1/authorize",
			TokenURL:  srv.URL + "/oidc/v1/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
		Scopes:      []string{"all-apis", "offline_access"},
	}
	verifier := oauth2.GenerateVerifier()
	begin := time.Now()
	dom, err := browsertest.Open(t, conf.AuthCodeURL("state-state", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("login took %v", time.Since(begin))
	if !strings.Contains(dom, "logged in") {
		t.Fatalf("DOM = %q, want the callback page", dom)
	}
	var code string
	select {
	case code = <-codes:
	default:
		t.Fatal("callback not reached")
	}
	tok, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if !srv.TokenAccepted(t, tok.AccessToken) {
		t.Error("access token not accepted")
	}
}
