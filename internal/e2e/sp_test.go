package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

func TestServicePrincipalNeedsNoLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	const secret = "sp-secret-0f3c9a7e5d1b4c2a8e6f"
	w.useClient(oauthtest.Client{Secret: secret, GrantTypes: []string{"client_credentials"}, Scope: "all-apis sql"})
	w.env["DATABRICKS_CLIENT_SECRET"] = secret

	r := w.run(nil, "login")
	if r.code != 0 || !strings.Contains(r.stderr, "service principal") || len(w.srv.TokenRequests()) != 0 {
		t.Fatalf("login for a service principal: exit %d, %v token requests\n%s", r.code, w.srv.TokenRequests(), r.stderr)
	}
	tok := w.token()
	if !w.srv.TokenAccepted(t, tok) || w.srv.TokenRequests()["client_credentials"] != 1 {
		t.Fatalf("token: accepted %v, requests %v", w.srv.TokenAccepted(t, tok), w.srv.TokenRequests())
	}
	if e := w.stored(); e.AccessToken != tok || e.RefreshToken != "" {
		t.Errorf("the service principal's token was not cached as it came")
	}
	if again := w.token(); again != tok || w.srv.TokenRequests()["client_credentials"] != 1 {
		t.Errorf("a valid cached token was not reused: requests %v", w.srv.TokenRequests())
	}
	if r := w.run(nil, "status"); r.code != 0 || !strings.Contains(r.stdout, "client-credentials") {
		t.Errorf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	self, _ := os.Executable()
	r = w.run([]string{"E2E_CHILD=report"}, "exec", "--", self)
	if r.code != 0 || !strings.Contains(r.stdout, `"me":200`) || strings.Contains(r.stdout, secret) {
		t.Errorf("exec for a service principal: exit %d, child saw %s", r.code, r.stdout)
	}

	if fresh := w.token("--refresh"); fresh == tok || !w.srv.TokenAccepted(t, fresh) || w.srv.TokenRequests()["client_credentials"] != 2 {
		t.Errorf("token --refresh did not get a new accepted token: requests %v", w.srv.TokenRequests())
	}
	if n := w.srv.TokenRequests()["authorization_code"] + w.srv.TokenRequests()["refresh_token"]; n != 0 {
		t.Errorf("a service principal used a user grant %d times", n)
	}
}
