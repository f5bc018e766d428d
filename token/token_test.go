package token

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func entry(lifetime, left time.Duration) *Entry {
	now := t0
	return &Entry{Version: 1, Host: "https://h.example", ClientID: "c", Scopes: []string{"all-apis", "offline_access"},
		AccessToken: "at-old", RefreshToken: "rt-old", Obtained: now.Add(left - lifetime), Expiry: now.Add(left), TokenURL: "http://unused/"}
}

func TestDue(t *testing.T) {
	cases := []struct {
		lifetime, left, minTTL time.Duration
		due                    bool
	}{
		{time.Hour, 59 * time.Minute, 5 * time.Minute, false},
		{time.Hour, 5*time.Minute + time.Second, 5 * time.Minute, false},
		{time.Hour, 5*time.Minute - time.Second, 5 * time.Minute, true},
		// Half the lifetime caps min-ttl: a 90 s token is due at 45 s left, not at once.
		{90 * time.Second, 46 * time.Second, 5 * time.Minute, false},
		{90 * time.Second, 44 * time.Second, 5 * time.Minute, true},
		// The 30 s floor: never hand out a token with 30 s or less left.
		{40 * time.Second, 31 * time.Second, 5 * time.Minute, false},
		{40 * time.Second, 29 * time.Second, 5 * time.Minute, true},
		{time.Hour, 20 * time.Second, time.Second, true},
		{time.Hour, -time.Minute, 5 * time.Minute, true},
	}
	for _, c := range cases {
		if got := Due(entry(c.lifetime, c.left), t0, c.minTTL, 0); got != c.due {
			t.Errorf("Due(lifetime %s, left %s, min-ttl %s) = %v, want %v", c.lifetime, c.left, c.minTTL, got, c.due)
		}
	}
}

func TestDueForALastingToken(t *testing.T) {
	cases := []struct {
		lifetime, left time.Duration
		due            bool
	}{
		{time.Hour, 51 * time.Minute, false},
		{time.Hour, 49 * time.Minute, true},
		// Shorter than 50 minutes: 90% of the lifetime must be left.
		{10 * time.Minute, 9*time.Minute + time.Second, false},
		{10 * time.Minute, 8*time.Minute + 59*time.Second, true},
	}
	for _, c := range cases {
		if got := Due(entry(c.lifetime, c.left), t0, DefaultMinTTL, 50*time.Minute); got != c.due {
			t.Errorf("Due(lifetime %s, left %s, lasting 50m) = %v, want %v", c.lifetime, c.left, got, c.due)
		}
	}
}

func TestEntryRoundTripAndDecodeErrors(t *testing.T) {
	e := entry(time.Hour, time.Hour)
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil || got.AccessToken != e.AccessToken || !got.Expiry.Equal(e.Expiry) || got.Version != EntryVersion {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "{", "null", `{"host":"h"}`, `{"version":1,"host":"h","client_id":"c"}`, `{"version":99,"host":"h","client_id":"c","access_token":"a"}`} {
		_, err := Decode([]byte(bad))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%q) = %v, want ErrCorrupt", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "at-old") {
			t.Errorf("decode error leaks a token: %v", err)
		}
	}
}

// memStore is an in-memory Store for testing the Source's decisions.
type memStore struct {
	e     *Entry
	saves int
}

func (m *memStore) Load(Key) (*Entry, error) {
	if m.e == nil {
		return nil, ErrNotFound
	}
	c := *m.e
	return &c, nil
}
func (m *memStore) Save(e *Entry) error { c := *e; m.e = &c; m.saves++; return nil }
func (m *memStore) Delete(Key) error    { m.e = nil; return nil }
func (m *memStore) Where() string       { return "memory" }

// tokenServer answers the token endpoint with status and body, counting calls.
func tokenServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "rt-old" {
			t.Errorf("unexpected token request: %v %v", r.PostForm, err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func source(store Store) *Source {
	return &Source{Store: store, Key: Key{Host: "https://h.example", ClientID: "c"}, Scopes: []string{"all-apis"},
		Now: func() time.Time { return t0 }}
}

func TestSourceCachedTokenMakesNoCall(t *testing.T) {
	srv, n := tokenServer(t, 200, `{}`)
	e := entry(time.Hour, 50*time.Minute)
	e.TokenURL = srv.URL
	st := &memStore{e: e}
	got, err := source(st).Token(context.Background(), false)
	if err != nil || got.AccessToken != "at-old" || n.Load() != 0 || st.saves != 0 {
		t.Fatalf("got %v, %v; %d calls, %d saves; want the cached token, no call, no write", got, err, n.Load(), st.saves)
	}
}

func TestSourceRefreshesWhenDueAndStoresRotatedToken(t *testing.T) {
	srv, n := tokenServer(t, 200, `{"access_token":"at-new","token_type":"Bearer","refresh_token":"rt-new","expires_in":3600,"scope":"all-apis offline_access"}`)
	e := entry(time.Hour, time.Minute)
	e.TokenURL = srv.URL
	st := &memStore{e: e}
	got, err := source(st).Token(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "at-new" || st.e.RefreshToken != "rt-new" || st.e.AccessToken != "at-new" || n.Load() != 1 {
		t.Fatalf("got %+v, stored %+v, %d calls", got, st.e, n.Load())
	}
	if st.e.Lifetime() != time.Hour {
		t.Errorf("stored lifetime %s, want 1h", st.e.Lifetime())
	}
}

func TestSourceFailedRefreshKeepsRefreshToken(t *testing.T) {
	cases := []struct {
		name          string
		status        int
		body          string
		left          time.Duration
		loginRequired bool
		warned        bool
	}{
		{"rejected", 400, `{"error":"invalid_request","error_description":"Refresh token is invalid"}`, time.Minute, true, false},
		{"invalid_grant", 400, `{"error":"invalid_grant"}`, time.Minute, true, false},
		{"server error with time left", 500, `oops`, 2 * time.Minute, false, true},
		{"server error at the floor", 500, `oops`, 20 * time.Second, false, false},
		{"garbage", 200, `not json`, 20 * time.Second, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := tokenServer(t, c.status, c.body)
			e := entry(time.Hour, c.left)
			e.TokenURL = srv.URL
			st := &memStore{e: e}
			var warning string
			s := source(st)
			s.Warn = func(m string) { warning = m }
			got, err := s.Token(context.Background(), false)
			if errors.Is(err, ErrLoginRequired) != c.loginRequired {
				t.Errorf("err = %v, login required want %v", err, c.loginRequired)
			}
			if c.warned != (warning != "") || c.warned && (err != nil || got.AccessToken != "at-old") {
				t.Errorf("warning %q, token %v, err %v; want the current token with a warning: %v", warning, got, err, c.warned)
			}
			if !c.warned && err == nil {
				t.Errorf("want an error, got token %v", got)
			}
			switch {
			case c.loginRequired && (st.e == nil || st.e.RefreshToken != "" || st.e.AccessToken != "at-old"):
				t.Errorf("a rejected refresh token was not forgotten, or more was: %+v", st.e)
			case !c.loginRequired && (st.e == nil || st.e.RefreshToken != "rt-old" || st.saves != 0):
				t.Errorf("stored entry changed after a failed refresh: %+v", st.e)
			}
		})
	}
}

func TestSourceLoginRequired(t *testing.T) {
	_, err := source(&memStore{}).Token(context.Background(), false)
	if !errors.Is(err, ErrLoginRequired) {
		t.Errorf("no entry: %v", err)
	}
	e := entry(time.Hour, time.Hour)
	e.Scopes = []string{"sql"}
	_, err = source(&memStore{e: e}).Token(context.Background(), false)
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), "all-apis") {
		t.Errorf("missing scope: %v", err)
	}
}
