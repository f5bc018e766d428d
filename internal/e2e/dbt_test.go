package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// inProject moves w into a dbt project whose profile (in ~/.dbt) names the
// workspace and the client through env_var(), and takes away every flag and
// DATABRICKS_* variable: all dbtdbx knows comes from the project.
func (w *world) inProject() (project string) {
	w.t.Helper()
	project = filepath.Join(w.home, "work", "shop")
	writeFile(w.t, filepath.Join(project, "dbt_project.yml"),
		"name: shop\nconfig-version: 2\nprofile: \"{{ env_var('SHOP_PROFILE', 'shop') }}\"\n")
	writeFile(w.t, filepath.Join(project, "models", "customers.sql"), "select 1 as id\n")
	writeFile(w.t, filepath.Join(w.home, ".dbt", "profiles.yml"), fmt.Sprintf(`config:
  send_anonymous_usage_stats: false
shop:
  target: dev
  outputs:
    dev:
      type: databricks
      host: "{{ env_var('SHOP_HOST') }}"
      http_path: /sql/1.0/warehouses/abc123
      schema: dbt_dev
      threads: 4
      auth_type: oauth
      client_id: "{{ env_var('SHOP_CLIENT') }}"
      oauth_redirect_url: %q
      token: "{{ env_var('DATABRICKS_TOKEN', '') }}"
    prod:
      type: databricks
      host: "{{ env_var('SHOP_PROD_HOST') }}"
      http_path: /sql/1.0/warehouses/def456
      token: "{{ env_var('DATABRICKS_TOKEN') }}"
`, w.redirect()))
	delete(w.env, "DATABRICKS_HOST")
	delete(w.env, "DATABRICKS_CLIENT_ID")
	w.env["SHOP_HOST"] = w.host
	w.env["SHOP_CLIENT"] = w.client
	w.dir = filepath.Join(project, "models")
	w.flags = nil
	return project
}

func TestDbtProjectNeedsNoFlags(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	project := w.inProject()

	if r := w.run(nil, "token"); r.code != 4 || !strings.Contains(r.stderr, "dbtdbx login") {
		t.Fatalf("token before login: exit %d, stderr %q; want 4 naming dbtdbx login", r.code, r.stderr)
	}
	w.login()
	tok := w.token()
	if tok != w.stored().AccessToken || !w.srv.TokenAccepted(t, tok) {
		t.Fatal("token from the project is not the stored, accepted token")
	}

	var st struct {
		Profile      string            `json:"profile"`
		Target       string            `json:"target"`
		ProjectDir   string            `json:"project_dir"`
		ProfilesFile string            `json:"profiles_file"`
		Host         string            `json:"host"`
		HTTPPath     string            `json:"http_path"`
		ClientID     string            `json:"client_id"`
		AuthType     string            `json:"auth_type"`
		RedirectURL  string            `json:"redirect_url"`
		Scopes       []string          `json:"scopes"`
		LoggedIn     bool              `json:"logged_in"`
		Origins      map[string]string `json:"origins"`
		Warnings     []string          `json:"warnings"`
	}
	r := w.run(nil, "status", "-o", "json")
	decodeJSON(t, r.stdout, &st)
	if r.code != 0 || !st.LoggedIn || st.Profile != "shop" || st.Target != "dev" || st.ProjectDir != project ||
		st.ProfilesFile != filepath.Join(w.home, ".dbt", "profiles.yml") || st.Host != w.host ||
		st.HTTPPath != "/sql/1.0/warehouses/abc123" || st.ClientID != w.client || st.AuthType != "oauth" ||
		st.RedirectURL != w.redirect() || strings.Join(st.Scopes, " ") != "all-apis" || len(st.Warnings) != 0 {
		t.Errorf("status -o json: exit %d %+v", r.code, st)
	}
	if o := st.Origins["host"]; !strings.Contains(o, "profiles.yml") {
		t.Errorf("host origin %q does not name profiles.yml", o)
	}
	if o := st.Origins["scopes"]; o != "default" {
		t.Errorf("scopes origin %q, want default", o)
	}

	// An ambient DATABRICKS_HOST that disagrees loses to the profile, with a warning.
	r = w.run([]string{"DATABRICKS_HOST=https://other.cloud.databricks.com"}, "status")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "other.cloud.databricks.com") || !strings.Contains(r.stdout, "Host:") ||
		!strings.Contains(r.stdout, w.host) {
		t.Errorf("status with a disagreeing DATABRICKS_HOST: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// exec hands the project's workspace and token to the child.
	self, _ := os.Executable()
	r = w.run([]string{"E2E_CHILD=report", "DATABRICKS_TOKEN=stale-ambient-token"}, "exec", "--", self)
	if r.code != 0 {
		t.Fatalf("exec: exit %d\n%s", r.code, r.stderr)
	}
	var seen struct {
		Env map[string]string `json:"env"`
		Me  int               `json:"me"`
	}
	decodeJSON(t, r.stdout, &seen)
	if seen.Env["DATABRICKS_HOST"] != w.host || seen.Env["DATABRICKS_TOKEN"] != tok || seen.Me != 200 {
		t.Errorf("exec child saw host %q, the stored token %v, server answer %d", seen.Env["DATABRICKS_HOST"], seen.Env["DATABRICKS_TOKEN"] == tok, seen.Me)
	}

	// Another target of the same profile: its unset variable is named, exit 1.
	if r := w.run(nil, "token", "-t", "prod"); r.code != 1 || !strings.Contains(r.stderr, "SHOP_PROD_HOST") || r.stdout != "" {
		t.Errorf("token -t prod with SHOP_PROD_HOST unset: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := w.run(nil, "status", "--target", "staging"); r.code != 1 || !strings.Contains(r.stderr, "staging") ||
		!strings.Contains(r.stderr, "dev") || !strings.Contains(r.stderr, "prod") {
		t.Errorf("status for a missing target: exit %d, stderr %q; want 1 listing dev and prod", r.code, r.stderr)
	}

	if r := w.run(nil, "logout"); r.code != 0 {
		t.Fatalf("logout: %d %s", r.code, r.stderr)
	}
	if r := w.run(nil, "status"); r.code != 4 {
		t.Errorf("status after logout exited %d, want 4", r.code)
	}
}
