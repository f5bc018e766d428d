package cmd

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestServeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--listen", "0.0.0.0:0"},
		{"serve", "--listen", ":8080"},
		{"serve", "--listen", "[::1]:0"},
		{"serve", "--listen", "127.0.0.1"},
		{"serve", "--listen", "127.0.0.1:http"},
		{"serve", "-o", "yaml"},
		{"serve", "--shell", "tcsh"},
		{"serve", "extra"},
	} {
		code, stdout, stderr := runCLI(t, map[string]string{"DATABRICKS_HOST": "adb-1.2.azuredatabricks.net"}, args...)
		if code != ExitUsage || stdout != "" {
			t.Errorf("dbtdbx %v: exit %d, stdout %q, stderr %q; want exit %d and no output", args, code, stdout, stderr, ExitUsage)
		}
	}
	for _, ok := range []string{"127.0.0.1:0", "localhost:8021", "LOCALHOST:0"} {
		if err := checkListen(ok); err != nil {
			t.Errorf("--listen %s: %v", ok, err)
		}
	}
}

func TestServeHelpHasExamples(t *testing.T) {
	_, stdout, _ := runCLI(t, nil, "serve", "--help")
	for _, want := range []string{"Examples:", `eval "$(dbtdbx serve &)"`, "metadata-service", "--listen"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

func TestExportVars(t *testing.T) {
	vars := [][2]string{{"DATABRICKS_HOST", "https://h"}, {"DATABRICKS_METADATA_SERVICE_URL", "http://127.0.0.1:1/a'b"}}
	for shell, want := range map[string]string{
		"sh":         "export DATABRICKS_HOST=https://h DATABRICKS_METADATA_SERVICE_URL='http://127.0.0.1:1/a'\\''b'\n",
		"fish":       "set -gx DATABRICKS_HOST 'https://h';\nset -gx DATABRICKS_METADATA_SERVICE_URL 'http://127.0.0.1:1/a\\'b';\n",
		"powershell": "$env:DATABRICKS_HOST = 'https://h'\n$env:DATABRICKS_METADATA_SERVICE_URL = 'http://127.0.0.1:1/a''b'\n",
	} {
		if got := exportVars(shell, vars); got != want {
			t.Errorf("%s:\n%q\nwant\n%q", shell, got, want)
		}
	}
}

func TestChildEnvPointsAtTheTokenService(t *testing.T) {
	inherited := []string{"PATH=/bin", "DATABRICKS_AUTH_TYPE=pat", "DATABRICKS_METADATA_SERVICE_URL=http://127.0.0.1:1/old", "DATABRICKS_TOKEN=old"}
	got := childEnv(inherited, map[string]string{
		"DATABRICKS_HOST": "https://h", "DATABRICKS_TOKEN": "new",
		"DATABRICKS_AUTH_TYPE": authTypeMetadataService, "DATABRICKS_METADATA_SERVICE_URL": "http://127.0.0.1:2/new",
	})
	want := []string{"PATH=/bin", "DATABRICKS_HOST=https://h", "DATABRICKS_TOKEN=new",
		"DATABRICKS_AUTH_TYPE=metadata-service", "DATABRICKS_METADATA_SERVICE_URL=http://127.0.0.1:2/new"}
	if !slices.Equal(got, want) {
		t.Errorf("childEnv = %q, want %q", got, want)
	}
}

func TestIsNullDevice(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if !isNullDevice(null) || isNullDevice(file) || isNullDevice(strings.NewReader("")) {
		t.Error("isNullDevice does not tell the null device from others")
	}
}
