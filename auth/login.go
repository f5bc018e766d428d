package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ErrTimeout is returned by Login when no valid callback arrived in time.
var ErrTimeout = errors.New("timed out waiting for the browser")

// Client is an OAuth client of one workspace.
type Client struct {
	ClientID string
	// ClientSecret is empty for a public client (the usual case for U2M);
	// when set it is sent with the code exchange and every refresh.
	ClientSecret string
	Endpoints    Endpoints
	// HTTP is used for every request; nil means a client from NewHTTPClient
	// with a 30 s timeout and no logging.
	HTTP *http.Client
}

func (c *Client) config(redirectURL string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.Endpoints.AuthURL,
			TokenURL:  c.Endpoints.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURL,
		Scopes:      scopes,
	}
}

func (c *Client) context(ctx context.Context) context.Context {
	h := c.HTTP
	if h == nil {
		h = NewHTTPClient(30*time.Second, nil)
	}
	return context.WithValue(ctx, oauth2.HTTPClient, h)
}

// Login is one authorization-code login with PKCE.
type Login struct {
	Client *Client
	// RedirectURL is served by the loopback listener, exactly as registered.
	RedirectURL string
	// Scopes are sent as they are; include "offline_access" to get a
	// refresh token.
	Scopes []string
	// Timeout bounds the wait for the browser. Zero means 5 minutes.
	Timeout time.Duration
	// Ready is called once the listener is bound, with the URL the user must
	// open. It must not block; it typically prints the URL and starts the
	// browser in the background.
	Ready func(authURL string)
	// Callback, when set, is called when a valid callback arrives, before the
	// code is exchanged (to stop a progress display, or to time the rest).
	Callback func()
	// Pasted, when not nil, delivers lines the user pasted: the address the
	// browser ended on, for a browser on another machine (over SSH) that
	// cannot reach the listener. Each is checked like a callback; one that
	// does not belong to this login is reported to Notice and ignored.
	Pasted <-chan string
	// Notice receives one-line messages for the user; nil drops them.
	Notice func(msg string)
}

// Run performs the login:
//
//  1. bind the loopback listener on the redirect URL's port (fail at once if taken);
//  2. make a fresh PKCE verifier and state, build the authorization URL, call Ready;
//  3. serve the redirect path until a callback with the right state arrives
//     (or is pasted), ignoring any other request, or until the timeout or
//     ctx ends the wait;
//  4. exchange the code with the verifier and return the token, then show the
//     browser a page saying how it went, and close the listener.
func (l *Login) Run(ctx context.Context) (*oauth2.Token, error) {
	ru, err := url.Parse(l.RedirectURL)
	if err != nil {
		return nil, fmt.Errorf("redirect URL %q: %v", l.RedirectURL, err)
	}
	listeners, err := Listen(l.RedirectURL)
	if err != nil {
		return nil, err
	}

	verifier := oauth2.GenerateVerifier()
	state, err := randomState()
	if err != nil {
		closeAll(listeners)
		return nil, err
	}
	conf := l.Client.config(l.RedirectURL, l.Scopes)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	results := make(chan callbackResult, 1)
	cb := newCallback(ru.Path, state, results)
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range listeners {
		go func(ln net.Listener) { _ = srv.Serve(ln) }(ln)
	}
	var outcome error
	defer func() {
		cb.finish(outcome)
		// Let the page for the browser go out, then close the sockets.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	if l.Ready != nil {
		l.Ready(authURL)
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var res callbackResult
	pasted := l.Pasted
wait:
	for {
		select {
		case res = <-results:
			break wait
		case line, ok := <-pasted:
			if !ok {
				pasted = nil
				continue
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := cb.paste(ru, line); err != nil && l.Notice != nil {
				l.Notice(err.Error())
			}
		case <-timer.C:
			outcome = fmt.Errorf("%w after %s", ErrTimeout, timeout)
			return nil, outcome
		case <-ctx.Done():
			outcome = ctx.Err()
			return nil, outcome
		}
	}
	if l.Callback != nil {
		l.Callback()
	}
	if res.err != nil {
		outcome = res.err
		return nil, outcome
	}
	tok, err := conf.Exchange(l.Client.context(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		outcome = tokenError("exchange the authorization code", conf.Endpoint.TokenURL, err)
		return nil, outcome
	}
	return tok, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// GrantedScopes returns the scopes a token response says were granted, or
// asked when the response does not say.
func GrantedScopes(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	return append([]string(nil), asked...)
}
