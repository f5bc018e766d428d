// Command devworkspace runs a local stand-in for a Databricks workspace's
// OAuth server (Ory Hydra behind the workspace's /oidc/... paths, see
// internal/oauthtest) and a headless-Chromium browser shim, for the README's
// end-to-end demo. It registers a public client for http://localhost:8020,
// prints one line of shell to eval (DATABRICKS_HOST, DATABRICKS_CLIENT_ID and
// a PATH that opens URLs in headless Chromium), and serves until stdin closes
// or it is interrupted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dbtdbx/dbtdbx/internal/browsertest"
	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &program{ctx: ctx}
	defer p.cleanup()

	srv := oauthtest.Start(p, oauthtest.Options{})
	client := srv.CreateClient(p, oauthtest.Client{RedirectURIs: []string{"http://localhost:8020"}})
	shim := browsertest.ShimDir(p)
	fmt.Printf("export DATABRICKS_HOST=%s DATABRICKS_CLIENT_ID=%s PATH=%s:\"$PATH\"\n", srv.URL, client, shim)
	fmt.Fprintf(os.Stderr, "devworkspace: serving %s (client %s); close stdin or press Ctrl-C to stop\n", srv.URL, client)

	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
	}
}

// program implements oauthtest.T and browsertest.T for a program: fatal
// errors run the cleanups and exit.
type program struct {
	ctx      context.Context
	cleanups []func()
}

func (p *program) Helper()                  {}
func (p *program) Cleanup(f func())         { p.cleanups = append(p.cleanups, f) }
func (p *program) Context() context.Context { return p.ctx }
func (p *program) Failed() bool             { return false }
func (p *program) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "devworkspace: "+format+"\n", args...)
}
func (p *program) Fatalf(format string, args ...any) {
	p.Logf(format, args...)
	p.cleanup()
	os.Exit(1)
}
func (p *program) Skipf(format string, args ...any) { p.Fatalf(format, args...) }
func (p *program) TempDir() string {
	dir, err := os.MkdirTemp("", "devworkspace-")
	if err != nil {
		p.Fatalf("%v", err)
	}
	p.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (p *program) cleanup() {
	for i := len(p.cleanups) - 1; i >= 0; i-- {
		p.cleanups[i]()
	}
	p.cleanups = nil
}
