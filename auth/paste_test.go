package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoginTakesAPastedRedirect(t *testing.T) {
	redirect := fmt.Sprintf("http://localhost:%d/cb", freePort(t))
	pasted := make(chan string)
	notices := make(chan string, 8)
	r := startLogin(t, context.Background(), redirect, time.Minute, func(l *Login) {
		l.Pasted = pasted
		l.Notice = func(m string) { notices <- m }
	})
	state, _ := r.state(t)

	wrong := []struct{ line, mention string }{
		{"not a url at all", "paste the whole URL"},
		{"http://localhost:1/elsewhere?code=c&state=" + url.QueryEscape(state), "paste the whole URL"},
		{redirect + "?code=evil&state=wrong", "state does not match"},
		{redirect + "?code=evil", "state does not match"},
	}
	for _, w := range wrong {
		pasted <- w.line
		if n := <-notices; !strings.Contains(n, w.mention) {
			t.Errorf("pasting %q: notice %q, want one mentioning %q", w.line, n, w.mention)
		}
	}
	pasted <- "  " + redirect + "?code=pasted-code&state=" + url.QueryEscape(state) + "\n"
	if err := <-r.done; err != nil {
		t.Fatalf("login after a good paste: %v", err)
	}
	if c := <-r.codes; c != "pasted-code" {
		t.Errorf("exchanged code %q, want the pasted one", c)
	}
}

func TestLoginPastedError(t *testing.T) {
	redirect := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	pasted := make(chan string, 1)
	r := startLogin(t, context.Background(), redirect, time.Minute, func(l *Login) { l.Pasted = pasted })
	state, _ := r.state(t)
	pasted <- redirect + "/?error=access_denied&error_description=no&state=" + url.QueryEscape(state)
	var se *ServerError
	if err := <-r.done; !errors.As(err, &se) || se.Code != "access_denied" {
		t.Fatalf("err = %v, want the server's access_denied", err)
	}
}
