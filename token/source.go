package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dbtdbx/dbtdbx/auth"
	"golang.org/x/oauth2"
)

// ErrLoginRequired is wrapped when only a new login can produce a token.
var ErrLoginRequired = errors.New("login required")

// Source hands out a valid access token for one key, refreshing it through
// the entry's token endpoint when due and storing the result before
// returning it.
type Source struct {
	Store Store
	Key   Key
	// Scopes the caller needs; a login granted fewer is not usable.
	Scopes []string
	// MinTTL: see Threshold. Zero means DefaultMinTTL.
	MinTTL time.Duration
	// Lasting: see Threshold. Zero for a token used at once.
	Lasting time.Duration
	// Client refreshes; its Endpoints.TokenURL is taken from the entry.
	Client auth.Client
	// Obtain, when set, makes tokens for a target that has no login, such
	// as a service principal (client-credentials grant): Source calls it
	// instead of refreshing when no entry is stored or the stored one is
	// due, and stores what it returns. stored is the entry it replaces, or
	// nil.
	Obtain func(ctx context.Context, stored *Entry) (*Entry, error)
	// Lock, when set, is held around re-reading the store, refreshing and
	// saving, so that processes sharing the store refresh one at a time
	// (single-use refresh tokens die when two use them). nil means no lock.
	Lock func(ctx context.Context) (release func(), err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives decisions when not nil.
	Log *slog.Logger
	// Warn receives one-line warnings for the user when not nil.
	Warn func(msg string)
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) debug(msg string, args ...any) {
	if s.Log != nil {
		s.Log.Debug(msg, args...)
	}
}

// Token returns a usable entry: the stored one when it is not due (and
// force is false), else a refreshed one, already saved. The valid-token path
// reads the store once (or only its cache, when it is a Peeker) and takes
// no lock; a refresh holds Lock around
// re-reading the store, refreshing and saving, and refreshes only if the
// entry is still due then (another process may have refreshed meanwhile).
func (s *Source) Token(ctx context.Context, force bool) (*Entry, error) {
	if !force {
		if e, ok := s.peek(); ok {
			return e, nil
		}
	}
	if s.Obtain != nil {
		return s.obtain(ctx, force)
	}
	e, err := s.load()
	if err != nil {
		return nil, err
	}
	if !force && !s.due(e) {
		return e, nil
	}
	release, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if e, err = s.load(); err != nil {
		return nil, err
	}
	if !force && !s.due(e) {
		s.debug("another process refreshed the token meanwhile")
		return e, nil
	}
	return s.refresh(ctx, e, force)
}

// peek returns the Store's cached copy of the access token when it is
// there and may be handed out as it is.
func (s *Source) peek() (*Entry, bool) {
	p, ok := s.Store.(Peeker)
	if !ok {
		return nil, false
	}
	e, ok := p.Peek(s.Key)
	if !ok || len(e.HasScopes(s.Scopes)) > 0 || s.due(e) {
		return nil, false
	}
	s.debug("access token from the cache; the store was not read")
	return e, true
}

// load reads the stored login and checks that it has the scopes asked for.
func (s *Source) load() (*Entry, error) {
	e, err := s.Store.Load(s.Key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("%w: no login stored for %s with client %s", ErrLoginRequired, s.Key.Host, s.Key.ClientID)
	case errors.Is(err, ErrCorrupt):
		return nil, fmt.Errorf("%w: %w", ErrLoginRequired, err)
	case err != nil:
		return nil, err
	}
	if missing := e.HasScopes(s.Scopes); len(missing) > 0 {
		return nil, fmt.Errorf("%w: the stored login was not granted %s", ErrLoginRequired, strings.Join(missing, ", "))
	}
	return e, nil
}

// due reports whether e must be refreshed before it is handed out.
func (s *Source) due(e *Entry) bool {
	now := s.now()
	if !Due(e, now, s.minTTL(), s.Lasting) {
		s.debug("cached token is valid", "left", e.Expiry.Sub(now).Round(time.Second), "threshold", Threshold(e, s.minTTL(), s.Lasting))
		return false
	}
	return true
}

func (s *Source) lock(ctx context.Context) (release func(), err error) {
	if s.Lock == nil {
		return func() {}, nil
	}
	return s.Lock(ctx)
}

// refresh trades e's refresh token for a new token and stores it.
func (s *Source) refresh(ctx context.Context, e *Entry, force bool) (*Entry, error) {
	left := e.Expiry.Sub(s.now())
	if e.RefreshToken == "" {
		switch {
		case !force && left > Floor:
			return e, nil
		case force:
			return nil, fmt.Errorf("%w: no refresh token is stored (the server issued none, or rejected it)", ErrLoginRequired)
		}
		return nil, fmt.Errorf("%w: the access token is expiring and no refresh token is stored", ErrLoginRequired)
	}
	s.debug("refreshing", "forced", force, "left", left.Round(time.Second))
	c := s.Client
	c.Endpoints.TokenURL = e.TokenURL
	tok, err := c.Refresh(ctx, e.RefreshToken)
	if err != nil {
		if errors.Is(err, auth.ErrRefreshRejected) {
			// The server says the refresh token is dead: forget it, so
			// status tells the truth without asking the server again.
			dead := *e
			dead.RefreshToken = ""
			if serr := s.Store.Save(&dead); serr != nil {
				s.debug("could not forget the rejected refresh token", "error", serr)
			}
			return nil, fmt.Errorf("%w: %v", ErrLoginRequired, err)
		}
		if !force && left > Floor && s.Warn != nil {
			s.Warn(fmt.Sprintf("could not refresh the token (%v); using the current one, valid for %s more", err, left.Round(time.Second)))
			return e, nil
		}
		return nil, err
	}
	next := EntryFromToken(tok, e.Key(), e.Scopes, e.TokenURL, s.now())
	if next.RefreshToken == "" {
		next.RefreshToken = e.RefreshToken
	}
	if err := s.Store.Save(next); err != nil {
		return nil, fmt.Errorf("refreshed the token but could not store it: %w", err)
	}
	s.debug("refreshed and stored", "expiry", next.Expiry)
	return next, nil
}

func (s *Source) minTTL() time.Duration {
	if s.MinTTL <= 0 {
		return DefaultMinTTL
	}
	return s.MinTTL
}

// obtain is Token for a Source with Obtain: the stored entry while it is
// not due, else a new one from Obtain, stored.
func (s *Source) obtain(ctx context.Context, force bool) (*Entry, error) {
	e, usable, err := s.loadObtained(force)
	if err != nil || usable {
		return e, err
	}
	release, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if e, usable, err = s.loadObtained(force); err != nil || usable {
		return e, err
	}
	s.debug("getting a new token", "forced", force, "stored", e != nil)
	next, err := s.Obtain(ctx, e)
	if err != nil {
		if e != nil && !force && len(e.HasScopes(s.Scopes)) == 0 && e.Expiry.Sub(s.now()) > Floor && s.Warn != nil {
			s.Warn(fmt.Sprintf("could not get a new token (%v); using the current one, valid for %s more", err, e.Expiry.Sub(s.now()).Round(time.Second)))
			return e, nil
		}
		return nil, err
	}
	if err := s.Store.Save(next); err != nil {
		return nil, fmt.Errorf("got a new token but could not store it: %w", err)
	}
	return next, nil
}

// loadObtained reads the stored entry of a Source with Obtain: usable when
// it may be handed out as it is; e is nil when none (or no readable one) is
// stored.
func (s *Source) loadObtained(force bool) (e *Entry, usable bool, err error) {
	e, err = s.Store.Load(s.Key)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return e, !force && len(e.HasScopes(s.Scopes)) == 0 && !s.due(e), nil
}

// EntryFromToken builds the entry for a token issued at now. Scopes granted
// by the response win over scopes.
func EntryFromToken(tok *oauth2.Token, key Key, scopes []string, tokenURL string, now time.Time) *Entry {
	// expires_in counts from now: computing the expiry from it keeps it on
	// the same clock as Obtained, which x/oauth2's Expiry (from its own
	// time.Now) is not when the caller's clock is another.
	expiry := tok.Expiry
	switch {
	case tok.ExpiresIn > 0:
		expiry = now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case expiry.IsZero():
		expiry = now.Add(time.Hour)
	}
	return &Entry{
		Version:      EntryVersion,
		Host:         key.Host,
		ClientID:     key.ClientID,
		Scopes:       auth.GrantedScopes(tok, scopes),
		AccessToken:  tok.AccessToken,
		TokenType:    tok.Type(),
		RefreshToken: tok.RefreshToken,
		Expiry:       expiry.UTC().Truncate(time.Second),
		Obtained:     now.UTC().Truncate(time.Second),
		TokenURL:     tokenURL,
	}
}
