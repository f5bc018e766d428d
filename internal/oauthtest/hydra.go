package oauthtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

const (
	// readyTimeout bounds how long Start waits for hydra to become ready.
	readyTimeout = 20 * time.Second
	// readyPoll is how often Start polls hydra's readiness endpoints.
	readyPoll = 20 * time.Millisecond
	// launchAttempts is how many times Start launches hydra when it exits
	// early, typically because another process took one of its ports.
	launchAttempts = 3
)

// hydraConfig is what Start tells hydra.
type hydraConfig struct {
	frontURL string        // where the front listens
	appURL   string        // where the login and consent app listens
	tokenTTL time.Duration // access token lifetime
}

// hydraProcess is a running hydra.
type hydraProcess struct {
	publicURL string
	adminURL  string
}

// startHydra launches hydra and waits until it is ready, retrying with
// other ports when it exits early. It registers t.Cleanup to kill it.
func startHydra(t T, bin string, cfg hydraConfig) *hydraProcess {
	t.Helper()
	dir := t.TempDir()
	var err error
	for attempt := 1; attempt <= launchAttempts; attempt++ {
		var h *hydraProcess
		h, err = launchHydra(t, bin, dir, attempt, cfg)
		if err == nil {
			return h
		}
		if !errors.Is(err, errExited) {
			break
		}
	}
	t.Fatalf("oauthtest: starting hydra: %v", err)
	return nil
}

// errExited reports that hydra exited before it was ready.
var errExited = errors.New("hydra exited before it was ready")

// launchHydra runs hydra once, logging to a file in dir, and waits until
// its public and admin ports are ready.
func launchHydra(t T, bin, dir string, attempt int, cfg hydraConfig) (*hydraProcess, error) {
	t.Helper()
	publicPort, err := freePort()
	if err != nil {
		return nil, err
	}
	adminPort, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("hydra-%d.log", attempt))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DSN=memory",
		"SECRETS_SYSTEM=" + rand.Text() + rand.Text(), // 52 characters; hydra wants 32+
		// Databricks' issuer is {host}/oidc. Hydra builds the URLs it
		// redirects to from URLS_SELF_PUBLIC, which sends them through
		// the front as well.
		"URLS_SELF_ISSUER=" + cfg.frontURL + "/oidc",
		"URLS_SELF_PUBLIC=" + cfg.frontURL,
		"URLS_LOGIN=" + cfg.appURL + "/login",
		"URLS_CONSENT=" + cfg.appURL + "/consent",
		"SERVE_PUBLIC_HOST=127.0.0.1",
		"SERVE_PUBLIC_PORT=" + strconv.Itoa(publicPort),
		"SERVE_ADMIN_HOST=127.0.0.1",
		"SERVE_ADMIN_PORT=" + strconv.Itoa(adminPort),
		"TTL_ACCESS_TOKEN=" + hydraDuration(cfg.tokenTTL),
		"OAUTH2_PKCE_ENFORCED_FOR_PUBLIC_CLIENTS=true",
		"SQA_OPT_OUT=true",
		"LOG_LEVEL=warn",
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	var waitErr error // set before exited is closed
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			logHydra(t, logPath)
		}
	})

	h := &hydraProcess{
		publicURL: fmt.Sprintf("http://127.0.0.1:%d", publicPort),
		adminURL:  fmt.Sprintf("http://127.0.0.1:%d", adminPort),
	}
	if err := waitReady(t.Context(), readyTimeout, exited, h.publicURL+"/health/ready", h.adminURL+"/health/ready"); err != nil {
		if errors.Is(err, errExited) {
			err = fmt.Errorf("%w (%v; log: %s)", err, waitErr, logPath)
			t.Logf("oauthtest: attempt %d: %v", attempt, err)
		}
		return nil, err
	}
	// The first discovery request makes hydra create its signing keys. On a
	// loaded machine that can fail, and keep failing for that process; make
	// it happen here, where a failed launch is tried again.
	if err := waitReady(t.Context(), keysTimeout, exited, h.publicURL+"/.well-known/openid-configuration"); err != nil {
		_ = cmd.Process.Kill()
		err = fmt.Errorf("%w: its signing keys were not ready (%v; log: %s)", errExited, err, logPath)
		t.Logf("oauthtest: attempt %d: %v", attempt, err)
		return nil, err
	}
	return h, nil
}

// keysTimeout bounds the wait for hydra's signing keys after it is ready.
const keysTimeout = 10 * time.Second

// waitReady polls GET of every URL until all answer 200, hydra exits, or
// timeout passes.
func waitReady(ctx context.Context, timeout time.Duration, exited <-chan struct{}, urls ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	ready := func(u string) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for _, u := range urls {
		for !ready(u) {
			select {
			case <-exited:
				return errExited
			case <-ctx.Done():
				return fmt.Errorf("hydra not ready at %s after %v", u, timeout)
			case <-tick.C:
			}
		}
	}
	return nil
}

// logHydra copies hydra's log into the test's log.
func logHydra(t T, path string) {
	out, err := os.ReadFile(path)
	if err != nil {
		t.Logf("oauthtest: reading hydra's log: %v", err)
		return
	}
	t.Logf("oauthtest: hydra's log (%s):\n%s", path, out)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a redirect URI or a listener a test starts itself.
func FreePort(t T) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	return port
}

// hydraDuration formats d the way hydra's configuration wants durations
// ("^(\d+(ns|us|ms|s|m|h))+$", so not "1h0m0s").
func hydraDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

var (
	// hydraMu guards hydraPath.
	hydraMu sync.Mutex
	// hydraPath caches the binary found by hydraBinary.
	hydraPath string
)

// hydraBinary returns the path of the hydra binary, or skips (fails in CI)
// the test when there is none.
func hydraBinary(t T) string {
	t.Helper()
	hydraMu.Lock()
	defer hydraMu.Unlock()
	if hydraPath != "" {
		return hydraPath
	}
	path, err := findHydra()
	if err != nil {
		realpart.Missing(t, "hydra is not available (set DBTDBX_HYDRA, or let scripts/build-hydra.sh build it): %v", err)
	}
	hydraPath = path
	return path
}

// findHydra returns $DBTDBX_HYDRA, or else the path printed by
// scripts/build-hydra.sh of the module enclosing the current directory.
func findHydra() (string, error) {
	if path := os.Getenv("DBTDBX_HYDRA"); path != "" {
		return path, executable(path)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "build-hydra.sh")
	if err := executable(script); err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(script)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v: %s", script, err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	path := lines[len(lines)-1]
	if path == "" {
		return "", fmt.Errorf("%s printed no path", script)
	}
	return path, executable(path)
}

// moduleRoot walks up from the current directory to the one holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the current directory")
		}
		dir = parent
	}
}

// executable reports an error unless path is an executable regular file.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
