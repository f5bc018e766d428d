package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token"
)

// authTypeMetadataService is DATABRICKS_AUTH_TYPE for the token service: the
// Databricks SDKs refuse a configuration naming two ways to authenticate
// (the service's URL and DATABRICKS_TOKEN) unless it says which to use.
const authTypeMetadataService = "metadata-service"

// serviceCloseWait bounds how long stopping the token service waits for the
// requests it is answering.
const serviceCloseWait = 5 * time.Second

// startTokenService serves t's tokens to Databricks SDK clients on listen
// (see token.MetadataHandler), handed out like `token` does: refreshed first
// when due for minTTL, with the same store and cross-process lock, and
// never with MetadataMargin or less left. Each is reported to expire when it
// is due, so clients ask again just when it is refreshed.
func (g *globals) startTokenService(t *config.Target, listen string, minTTL time.Duration) (*token.MetadataService, error) {
	h := &token.MetadataHandler{
		Host: t.Host,
		SameHost: func(host string) bool {
			n, err := config.NormalizeHost(host)
			return err == nil && n == t.Host
		},
		Token: func(ctx context.Context) (*token.Entry, error) {
			e, err := g.accessToken(ctx, t, false, minTTL, token.MetadataMargin)
			var he hintError
			if errors.As(err, &he) && he.hint != "" {
				// The client shows only the message: put the next step in it.
				err = fmt.Errorf("%w. %s", err, he.hint)
			}
			return e, err
		},
		Ahead: func(e *token.Entry) time.Duration { return token.Threshold(e, minTTL, token.MetadataMargin) },
		Log:   g.log,
	}
	s, err := token.ServeMetadata(listen, h)
	if err != nil {
		return nil, err
	}
	if g.log != nil {
		g.log.Debug("token service listening", "addr", s.Addr, "host", t.Host)
	}
	return s, nil
}

// stopTokenService stops s, waiting a little for the requests it answers.
func stopTokenService(s *token.MetadataService) {
	ctx, cancel := context.WithTimeout(context.Background(), serviceCloseWait)
	defer cancel()
	_ = s.Close(ctx)
}
