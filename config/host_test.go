package config

import (
	"strings"
	"testing"
)

func TestNormalizeHost(t *testing.T) {
	ok := []struct{ in, want string }{
		{"adb-1234.5.azuredatabricks.net", "https://adb-1234.5.azuredatabricks.net"},
		{"https://dbc-x.cloud.databricks.com/", "https://dbc-x.cloud.databricks.com"},
		{"https://x.gcp.databricks.com/?o=123", "https://x.gcp.databricks.com"},
		{"https://x.gcp.databricks.com/?o=123#", "https://x.gcp.databricks.com"},
		{"https://adb-1.2.azuredatabricks.net/sql/1.0/warehouses/abc", "https://adb-1.2.azuredatabricks.net"},
		{"adb-1.2.azuredatabricks.net:443", "https://adb-1.2.azuredatabricks.net"},
		{"https://adb-1.2.azuredatabricks.net:443/", "https://adb-1.2.azuredatabricks.net"},
		{"HTTPS://DBC-X.Cloud.Databricks.COM", "https://dbc-x.cloud.databricks.com"},
		{"  dbc-x.cloud.databricks.com  ", "https://dbc-x.cloud.databricks.com"},
		{"dbc-x.cloud.databricks.com.", "https://dbc-x.cloud.databricks.com"},
		{"https://host.example:8443", "https://host.example:8443"},
		{"http://127.0.0.1:4444", "http://127.0.0.1:4444"},
		{"http://localhost:8080/", "http://localhost:8080"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		{"1234567890123456.7.gcp.databricks.com", "https://1234567890123456.7.gcp.databricks.com"},
		{"HTTPS://X.GCP.Databricks.com/?o=123#", "https://x.gcp.databricks.com"},
		{"x.gcp.databricks.com/?o=123#", "https://x.gcp.databricks.com"},
		{"ADB-1.2.AZUREDATABRICKS.NET:443", "https://adb-1.2.azuredatabricks.net"},
		{"dbc-a1b2c3d4-e5f6.cloud.databricks.com:443/", "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com"},
		{"https://adb-1.2.azuredatabricks.net:0443", "https://adb-1.2.azuredatabricks.net"},
		{"adb-1.2.databricks.azure.cn", "https://adb-1.2.databricks.azure.cn"},
	}
	for _, c := range ok {
		got, err := NormalizeHost(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, mention string }{
		{"", "empty"},
		{"http://dbc-x.cloud.databricks.com", "plain http"},
		{"ftp://host", "scheme"},
		{"https://", "no host name"},
		{"https://user:pw@host.com", "user name"},
		{"https://host.com:99999", "invalid port"},
		{"https://host.com:abc", "not a URL"},
		{"https://ho st.com", "not a URL"},
		{"https://-bad-.com", "invalid host name"},
		{"dbc-x.cloud.databricks.com..", "invalid host name"},
	}
	for _, c := range bad {
		got, err := NormalizeHost(c.in)
		if err == nil {
			t.Errorf("NormalizeHost(%q) = %q, want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("NormalizeHost(%q) error %q does not mention %q", c.in, err, c.mention)
		}
		if c.in != "" && !strings.Contains(c.in, "@") && !strings.Contains(err.Error(), c.in) {
			t.Errorf("NormalizeHost(%q) error %q does not name the value", c.in, err)
		}
	}
	// A user name or password may be a secret: the host is named without.
	if _, err := NormalizeHost("https://bob:hunter2@host.com/x"); err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "bob") || !strings.Contains(err.Error(), "https://host.com/x") {
		t.Errorf("NormalizeHost with a password: %v, want the host without user name and password", err)
	}
}

func env(m map[string]string) Env {
	return Env{LookupEnv: func(k string) (string, bool) { v, ok := m[k]; return v, ok }, Dir: "/nonexistent", Home: "/nonexistent"}
}

func TestResolvePrecedence(t *testing.T) {
	e := env(map[string]string{EnvHost: "env.cloud.databricks.com", EnvClientID: "env-client"})
	tg, err := Resolve(Flags{}, e)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Host != "https://env.cloud.databricks.com" || tg.Origins["host"] != "env DATABRICKS_HOST" {
		t.Errorf("host from env: %q (%s)", tg.Host, tg.Origins["host"])
	}
	if tg.ClientID != "env-client" || tg.Origins["client_id"] != "env DATABRICKS_CLIENT_ID" {
		t.Errorf("client id from env: %q (%s)", tg.ClientID, tg.Origins["client_id"])
	}
	tg, err = Resolve(Flags{Host: "flag.cloud.databricks.com", ClientID: "flag-client", Scopes: "sql,all-apis offline_access sql"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Host != "https://flag.cloud.databricks.com" || tg.ClientID != "flag-client" || tg.Origins["host"] != "flag --host" {
		t.Errorf("flags must win: %+v", tg)
	}
	if strings.Join(tg.Scopes, " ") != "sql all-apis" {
		t.Errorf("scopes = %q, want sql all-apis (deduplicated, offline_access dropped)", tg.Scopes)
	}
	tg, err = Resolve(Flags{Host: "h.example"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if tg.ClientID != DefaultClientID || tg.RedirectURL != DefaultRedirectURL || strings.Join(tg.Scopes, " ") != "all-apis" || tg.Origins["client_id"] != OriginDefault {
		t.Errorf("defaults: %+v", tg)
	}
	if tg.ClientSecret != "" {
		t.Errorf("client secret without %s: %q", EnvClientSecret, tg.ClientSecret)
	}
	tg, _ = Resolve(Flags{Host: "h.example"}, env(map[string]string{EnvClientSecret: "s3cret"}))
	if tg.ClientSecret != "s3cret" {
		t.Errorf("client secret from %s not read", EnvClientSecret)
	}
}

func TestResolveErrors(t *testing.T) {
	cases := []struct {
		f       Flags
		mention string
	}{
		{Flags{}, "--host"},
		{Flags{Host: "h.example", ClientID: "two words"}, "client id"},
		{Flags{Host: "h.example", Scopes: " , "}, "name no scope"},
		{Flags{Host: "h.example", RedirectURL: "https://localhost:8020"}, "http://localhost:8020"},
		{Flags{Host: "h.example", RedirectURL: "http://example.com:8020"}, "this machine"},
		{Flags{Host: "h.example", RedirectURL: "http://localhost:8020/?x=1"}, "query"},
		{Flags{Host: "h.example", RedirectURL: "http://localhost:0"}, "invalid port"},
	}
	for _, c := range cases {
		_, err := Resolve(c.f, env(nil))
		if err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("Resolve(%+v) = %v, want an error mentioning %q", c.f, err, c.mention)
		}
	}
}
