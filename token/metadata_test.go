package token

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// metadataFixture is a MetadataHandler whose Token hands out tok, with a
// fixed clock and a debug log.
type metadataFixture struct {
	h     *MetadataHandler
	now   time.Time
	tok   *Entry
	err   error
	calls atomic.Int32
	log   bytes.Buffer
}

func newMetadataFixture(t *testing.T) *metadataFixture {
	t.Helper()
	f := &metadataFixture{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	f.tok = &Entry{AccessToken: "the-access-token", TokenType: "bearer", Obtained: f.now.Add(-10 * time.Minute), Expiry: f.now.Add(50 * time.Minute)}
	path, err := NewMetadataPath()
	if err != nil {
		t.Fatal(err)
	}
	f.h = &MetadataHandler{
		Path: path,
		Host: "https://adb-1.2.azuredatabricks.net",
		Token: func(ctx context.Context) (*Entry, error) {
			f.calls.Add(1)
			return f.tok, f.err
		},
		Now: func() time.Time { return f.now },
		Log: slog.New(slog.NewTextHandler(&f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return f
}

// request builds a request as the SDK sends it, from a loopback client.
func (f *metadataFixture) request(method, path string, header map[string]string) *http.Request {
	r := httptest.NewRequest(method, "http://127.0.0.1:41000"+path, nil)
	r.RemoteAddr = "127.0.0.1:52000"
	r.Header.Set(MetadataVersionHeader, MetadataVersion)
	r.Header.Set(MetadataHostHeader, f.h.Host)
	for k, v := range header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	return r
}

func (f *metadataFixture) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func TestMetadataHandsOutTheTokenWithAnEarlyExpiry(t *testing.T) {
	f := newMetadataFixture(t)
	w := f.serve(f.request("GET", f.h.Path, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"access_token": "the-access-token",
		"token_type":   "Bearer",
		"expires_on":   float64(f.tok.Expiry.Add(-MetadataMargin).Unix()),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("body %v, want %v", got, want)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", w.Header())
	}
	if strings.Contains(f.log.String(), "the-access-token") || strings.Contains(f.log.String(), f.h.Path) {
		t.Errorf("the debug log holds the token or the secret path:\n%s", f.log.String())
	}
	if !strings.Contains(f.log.String(), "status=200") {
		t.Errorf("the debug log does not record the request:\n%s", f.log.String())
	}
}

// TestMetadataExpiresWhenDue: expires_on is when Token would refresh the
// token, never less than MetadataMargin before its expiry.
func TestMetadataExpiresWhenDue(t *testing.T) {
	f := newMetadataFixture(t)
	for _, c := range []struct {
		ahead, want time.Duration
	}{
		{5 * time.Minute, 5 * time.Minute},
		{Floor, MetadataMargin},
		{0, MetadataMargin},
	} {
		f.h.Ahead = func(e *Entry) time.Duration {
			if e != f.tok {
				t.Error("Ahead was not given the token handed out")
			}
			return c.ahead
		}
		var got metadataResponse
		w := f.serve(f.request("GET", f.h.Path, nil))
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.ExpiresOn != f.tok.Expiry.Add(-c.want).Unix() {
			t.Errorf("Ahead %v: expires_on %v, want %v before the expiry", c.ahead, time.Unix(got.ExpiresOn, 0).UTC(), c.want)
		}
	}
	// With Threshold, as dbtdbx serves: a 90 s token is due with 45 s left.
	f.tok = &Entry{AccessToken: "short", Obtained: f.now.Add(-10 * time.Second), Expiry: f.now.Add(80 * time.Second)}
	f.h.Ahead = func(e *Entry) time.Duration { return Threshold(e, DefaultMinTTL, MetadataMargin) }
	var got metadataResponse
	w := f.serve(f.request("GET", f.h.Path, nil))
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.ExpiresOn != f.now.Add(35*time.Second).Unix() {
		t.Errorf("90 s token: expires_on %v, want 45 s before its expiry", time.Unix(got.ExpiresOn, 0).UTC())
	}
}

func TestMetadataHostSpellings(t *testing.T) {
	f := newMetadataFixture(t)
	for _, host := range []string{"https://adb-1.2.azuredatabricks.net", "https://ADB-1.2.azuredatabricks.net/"} {
		if w := f.serve(f.request("GET", f.h.Path, map[string]string{MetadataHostHeader: host})); w.Code != http.StatusOK {
			t.Errorf("host %q: status %d", host, w.Code)
		}
	}
	f.h.SameHost = func(h string) bool { return h == "adb-1.2.azuredatabricks.net" }
	if w := f.serve(f.request("GET", f.h.Path, map[string]string{MetadataHostHeader: "adb-1.2.azuredatabricks.net"})); w.Code != http.StatusOK {
		t.Errorf("SameHost is not used: status %d", w.Code)
	}
}

func TestMetadataRefusals(t *testing.T) {
	f := newMetadataFixture(t)
	cases := []struct {
		name    string
		method  string
		path    string
		header  map[string]string
		remote  string
		code    int
		mention string
	}{
		{"no version", "GET", f.h.Path, map[string]string{MetadataVersionHeader: ""}, "", 400, MetadataVersionHeader},
		{"version 2", "GET", f.h.Path, map[string]string{MetadataVersionHeader: "2"}, "", 400, `"2"`},
		{"no host", "GET", f.h.Path, map[string]string{MetadataHostHeader: ""}, "", 400, MetadataHostHeader},
		{"other host", "GET", f.h.Path, map[string]string{MetadataHostHeader: "https://evil.example"}, "", 403, "evil.example"},
		{"root path", "GET", "/", nil, "", 404, "no such path"},
		{"other path", "GET", "/nope", nil, "", 404, "no such path"},
		{"longer path", "GET", f.h.Path + "/x", nil, "", 404, "no such path"},
		{"prefix of the path", "GET", f.h.Path[:len(f.h.Path)-1], nil, "", 404, "no such path"},
		{"POST", "POST", f.h.Path, nil, "", 405, "GET"},
		{"remote client", "GET", f.h.Path, nil, "192.0.2.7:40000", 403, "this machine"},
		{"remote client, IPv6", "GET", f.h.Path, nil, "[2001:db8::1]:40000", 403, "this machine"},
		{"remote client, IPv4 in IPv6", "GET", f.h.Path, nil, "[::ffff:10.1.2.3]:40000", 403, "this machine"},
		{"remote client on the wrong path", "GET", "/", nil, "192.0.2.7:40000", 403, "this machine"},
		{"rebound DNS name", "GET", f.h.Path, map[string]string{"Host": "evil.example:41000"}, "", 403, "127.0.0.1 or localhost"},
	}
	for _, c := range cases {
		r := f.request(c.method, c.path, c.header)
		if c.remote != "" {
			r.RemoteAddr = c.remote
		}
		if h, ok := c.header["Host"]; ok {
			r.Host = h
		}
		w := f.serve(r)
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != c.code || !strings.Contains(body["message"], c.mention) || body["error_code"] == "" {
			t.Errorf("%s: status %d, body %s; want %d mentioning %q", c.name, w.Code, w.Body, c.code, c.mention)
		}
		if strings.Contains(w.Body.String(), "the-access-token") {
			t.Errorf("%s: the refusal holds the token", c.name)
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("Token was called %d times for refused requests", n)
	}
	if strings.Contains(f.log.String(), f.h.Path[1:]) {
		t.Errorf("the debug log holds the secret path:\n%s", f.log.String())
	}
	for _, ok := range []string{"127.0.0.1:1", "[::1]:1", "127.9.9.9:1", "[::ffff:127.0.0.1]:1"} {
		r := f.request("GET", f.h.Path, nil)
		r.RemoteAddr = ok
		if w := f.serve(r); w.Code != http.StatusOK {
			t.Errorf("loopback client %s refused: %d", ok, w.Code)
		}
	}
}

func TestMetadataTokenErrors(t *testing.T) {
	f := newMetadataFixture(t)
	f.err = fmt.Errorf("%w: no login stored for https://adb-1.2.azuredatabricks.net", ErrLoginRequired)
	w := f.serve(f.request("GET", f.h.Path, nil))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "no login stored") || !strings.Contains(w.Body.String(), "UNAUTHENTICATED") {
		t.Errorf("login required: %d %s", w.Code, w.Body)
	}
	f.err = errors.New("token endpoint said 502")
	w = f.serve(f.request("GET", f.h.Path, nil))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "said 502") {
		t.Errorf("other error: %d %s", w.Code, w.Body)
	}
}

func TestMetadataPersonalAccessTokenExpiresInAnHour(t *testing.T) {
	f := newMetadataFixture(t)
	f.tok = &Entry{AccessToken: "dapi123", TokenType: "Bearer"}
	w := f.serve(f.request("GET", f.h.Path, nil))
	var got metadataResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.ExpiresOn != f.now.Add(time.Hour).Unix() {
		t.Errorf("PAT: %d %s (%v)", w.Code, w.Body, err)
	}
}

// TestMetadataTokenCallsDoNotOverlap: Token is called one request at a
// time, and a client that goes away does not cancel it.
func TestMetadataTokenCallsDoNotOverlap(t *testing.T) {
	f := newMetadataFixture(t)
	var inside, most atomic.Int32
	var cancelled atomic.Bool
	f.h.Token = func(ctx context.Context) (*Entry, error) {
		n := inside.Add(1)
		defer inside.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		runtime.Gosched() // let another request in, were the calls not serialised
		if ctx.Err() != nil {
			cancelled.Store(true)
		}
		return f.tok, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			r := f.request("GET", f.h.Path, nil).WithContext(ctx)
			cancel()
			f.serve(r)
		})
	}
	wg.Wait()
	if most.Load() != 1 || cancelled.Load() {
		t.Errorf("Token calls overlapped (%d at once) or saw a cancelled context (%v)", most.Load(), cancelled.Load())
	}
}

func TestServeMetadata(t *testing.T) {
	f := newMetadataFixture(t)
	f.h.Path = ""
	for _, bad := range []string{"0.0.0.0:0", ":0", "[::1]:0", "192.0.2.1:0", "127.0.0.1"} {
		if _, err := ServeMetadata(bad, f.h); err == nil {
			t.Errorf("ServeMetadata(%q) did not refuse", bad)
		}
	}
	s, err := ServeMetadata("localhost:0", f.h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || !strings.HasSuffix(s.URL, f.h.Path) || len(f.h.Path) < 40 || strings.Contains(s.Addr, f.h.Path) {
		t.Errorf("URL %q, Addr %q, path %q", s.URL, s.Addr, f.h.Path)
	}
	req, _ := http.NewRequest("GET", s.URL, nil)
	req.Header.Set(MetadataVersionHeader, MetadataVersion)
	req.Header.Set(MetadataHostHeader, f.h.Host)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Error("the service still answers after Close")
	}
}

func TestNewMetadataPathIsRandom(t *testing.T) {
	a, _ := NewMetadataPath()
	b, _ := NewMetadataPath()
	if a == b || len(a) != 44 || a[0] != '/' || strings.ContainsAny(a[1:], "/+=?#%") {
		t.Errorf("paths %q and %q", a, b)
	}
}
