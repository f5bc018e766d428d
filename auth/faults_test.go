package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// faultyTokenServer answers the nth request (from 1) with answer(n, w).
func faultyTokenServer(t *testing.T, answer func(n int, w http.ResponseWriter)) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(int(n.Add(1)), w)
	}))
	t.Cleanup(srv.Close)
	c := &Client{ClientID: "cid", Endpoints: Endpoints{TokenURL: srv.URL + "/oidc/v1/token"}, HTTP: NewHTTPClient(10*time.Second, nil)}
	return c, &n
}

const goodToken = `{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt2"}`

func TestRefreshRetriesBusyServers(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway} {
		c, n := faultyTokenServer(t, func(n int, w http.ResponseWriter) {
			if n <= 2 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", status)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, goodToken)
		})
		tok, err := c.Refresh(context.Background(), "rt")
		if err != nil || tok.AccessToken != "at" || n.Load() != 3 {
			t.Errorf("after two %d answers: %v, %v, %d requests; want the token after 3", status, tok, err, n.Load())
		}
	}
}

func TestRefreshGivesUpAfterBoundedRetries(t *testing.T) {
	c, n := faultyTokenServer(t, func(_ int, w http.ResponseWriter) { http.Error(w, "down", http.StatusInternalServerError) })
	_, err := c.Refresh(context.Background(), "rt")
	if err == nil || !strings.Contains(err.Error(), "500") || n.Load() != retries+1 {
		t.Fatalf("always 500: %v after %d requests; want an error naming the status after %d", err, n.Load(), retries+1)
	}
	if errors.Is(err, ErrRefreshRejected) {
		t.Error("a server failure was taken for a rejected refresh token")
	}
}

func TestTokenEndpointFaults(t *testing.T) {
	cases := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		mention string
	}{
		{"not JSON", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>proxy login</html>")
		}, "did not answer with a usable token"},
		{"JSON without a token", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer"}`)
		}, "did not answer with a usable token"},
		{"truncated JSON", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"at`)
		}, "did not answer with a usable token"},
		{"connection closed", func(w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "cannot reach"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, _ := faultyTokenServer(t, func(_ int, w http.ResponseWriter) { c.answer(w) })
			_, err := client.Refresh(context.Background(), "rt-secret-value")
			if err == nil || !strings.Contains(err.Error(), c.mention) || strings.Contains(err.Error(), "rt-secret-value") {
				t.Errorf("err = %v, want one mentioning %q and no secret", err, c.mention)
			}
			if errors.Is(err, ErrRefreshRejected) {
				t.Error("a broken answer was taken for a rejected refresh token")
			}
		})
	}
}

func TestStalledServerTimesOut(t *testing.T) {
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stall); srv.Close() })
	c := &Client{ClientID: "cid", Endpoints: Endpoints{TokenURL: srv.URL}, HTTP: NewHTTPClient(200*time.Millisecond, nil)}
	if _, err := c.Refresh(context.Background(), "rt"); err == nil || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("stalled server: %v, want a timeout that says so", err)
	}
	if _, err := Discover(context.Background(), c.HTTP, srv.URL); err == nil || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("stalled discovery: %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Discover(context.Background(), NewHTTPClient(5*time.Second, nil), "http://"+addr)
	if err == nil || !strings.Contains(err.Error(), "cannot reach http://"+addr) || strings.Count(err.Error(), ":") > 4 {
		t.Errorf("refused: %v, want one line saying it cannot reach the host", err)
	}
}

func TestBackoff(t *testing.T) {
	if d := backoff(0, "2"); d != 2*time.Second {
		t.Errorf("Retry-After 2 = %s", d)
	}
	if d := backoff(0, "3600"); d != maxRetryAfter {
		t.Errorf("Retry-After 3600 = %s, want the cap %s", d, maxRetryAfter)
	}
	for attempt := range retries {
		base := backoffBase << attempt
		if d := backoff(attempt, ""); d < base || d > base+base/2 {
			t.Errorf("backoff(%d) = %s, want %s to %s", attempt, d, base, base+base/2)
		}
	}
}

func TestServerErrorsReachTheTerminalWithoutControlCharacters(t *testing.T) {
	err := &ServerError{Code: "access_denied\x1b[31m", Description: "RED\r\nINJECTED\x07"}
	if got := err.Error(); strings.ContainsAny(got, "\x1b\r\n\x07") || !strings.Contains(got, "REDINJECTED") {
		t.Errorf("Error() = %q", got)
	}
}
