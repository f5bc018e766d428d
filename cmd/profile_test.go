package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtdbx/dbtdbx/config"
)

// runInProject runs dbtdbx in a dbt project whose profiles.yml has the
// given outputs under target "dev", with a clean environment.
func runInProject(t *testing.T, outputs string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"dbt_project.yml": "name: p\nprofile: p\n",
		"profiles.yml":    "p:\n  target: dev\n  outputs:\n    dev:\n" + outputs,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	e := config.Env{LookupEnv: func(string) (string, bool) { return "", false }, Dir: dir, Home: t.TempDir()}
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, e)
	return code, out.String(), errb.String()
}

func TestPersonalAccessTokenTarget(t *testing.T) {
	const pat = "dapi0123456789abcdef0123456789abcdef"
	outputs := "      type: databricks\n      host: adb-1.2.azuredatabricks.net\n      http_path: /sql/1.0/warehouses/x\n      token: " + pat + "\n"
	if code, stdout, stderr := runInProject(t, outputs, "token"); code != 0 || stdout != pat+"\n" {
		t.Errorf("token for a PAT target: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := runInProject(t, outputs, "login"); code != 0 || stdout != "" || !strings.Contains(stderr, "no login is needed") || strings.Contains(stderr, pat) {
		t.Errorf("login for a PAT target: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := runInProject(t, outputs, "status"); code != 0 || strings.Contains(stdout+stderr, pat) || !strings.Contains(stdout, "personal access token") || strings.Contains(stdout, "Client ID") {
		t.Errorf("status for a PAT target: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Nothing is stored for it, so logout neither opens a store nor
	// claims a login was missing.
	if code, stdout, stderr := runInProject(t, outputs, "logout", "--storage", "keyring"); code != 0 || stdout != "" || !strings.Contains(stderr, "nothing to remove") || strings.Contains(stderr, "No login") || strings.Contains(stderr, pat) {
		t.Errorf("logout for a PAT target: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestEntraServicePrincipalIsNotSupportedYet(t *testing.T) {
	const secret = "azure-secret-value-1234"
	outputs := "      type: databricks\n      host: adb-1.2.azuredatabricks.net\n      http_path: /sql/1.0/warehouses/x\n" +
		"      auth_type: oauth\n      azure_client_id: 11111111-2222-3333-4444-555555555555\n      azure_client_secret: " + secret + "\n"
	for _, cmd := range []string{"token", "login", "env"} {
		code, stdout, stderr := runInProject(t, outputs, cmd)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "Entra ID service principal") || strings.Contains(stderr, secret) {
			t.Errorf("%s for an Entra ID service principal: exit %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
		}
	}
	// status reports the target, then fails as the others do: no login
	// could help, so it names none.
	code, stdout, stderr := runInProject(t, outputs, "status")
	if code != 1 || !strings.Contains(stdout, "Entra ID") || !strings.Contains(stdout, "11111111-2222-3333-4444-555555555555") || strings.Contains(stdout, "dbt-databricks") || !strings.Contains(stderr, "Entra ID service principal") || strings.Contains(stderr, "Run: dbtdbx login") || strings.Contains(stdout+stderr, secret) {
		t.Errorf("status for an Entra ID service principal: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestTokenWithControlCharactersIsRefused(t *testing.T) {
	outputs := "      type: databricks\n      host: adb-1.2.azuredatabricks.net\n      http_path: /x\n      token: \"abc\\r\\nX-Injected: 1\"\n"
	for _, args := range [][]string{{"token"}, {"token", "-o", "header"}, {"env"}} {
		if code, stdout, stderr := runInProject(t, outputs, args...); code != 1 || stdout != "" || !strings.Contains(stderr, "control characters") {
			t.Errorf("%v with a token holding a line break: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
