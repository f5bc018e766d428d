package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode"
)

// callback serves the redirect path of the loopback listener. Only a request
// on the exact path with the login's state counts; it is delivered once on
// results, and its page waits for the login's outcome so the browser can say
// whether it worked.
type callback struct {
	path    string
	state   string
	results chan<- callbackResult
	once    sync.Once

	done    chan struct{} // closed when the outcome is set
	outcome error
}

type callbackResult struct {
	code string
	err  error
}

func newCallback(path, state string, results chan<- callbackResult) *callback {
	if path == "" {
		path = "/"
	}
	return &callback{path: path, state: state, results: results, done: make(chan struct{})}
}

// finish records the login's outcome for the page shown to the browser.
func (c *callback) finish(err error) {
	c.outcome = err
	close(c.done)
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if r.URL.Path != c.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if !c.ours(q) {
		// Not from this login's authorization request: ignore it, keep waiting.
		page(w, http.StatusBadRequest, "Not this sign-in",
			"This link does not belong to the dbtdbx login that is waiting. Nothing was changed; finish the sign-in from the URL dbtdbx printed.")
		return
	}
	if !c.deliver(q) {
		page(w, http.StatusConflict, "Already handled", "This sign-in was already handled. You can close this tab.")
		return
	}
	select {
	case <-c.done:
	case <-r.Context().Done():
		return
	}
	if c.outcome != nil {
		page(w, http.StatusOK, "Sign-in failed", "dbtdbx could not log in: "+c.outcome.Error()+". Details are in the terminal. You can close this tab.")
		return
	}
	page(w, http.StatusOK, "Signed in", "dbtdbx is logged in. You can close this tab and return to the terminal.")
}

// ours reports whether a callback's query carries this login's state.
func (c *callback) ours(q url.Values) bool {
	return subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.state)) == 1
}

// deliver hands the outcome of a callback that is ours to the login, once:
// it reports false when another callback was delivered before.
func (c *callback) deliver(q url.Values) bool {
	var res callbackResult
	switch {
	case q.Get("error") != "":
		res.err = &ServerError{Code: q.Get("error"), Description: q.Get("error_description")}
	case q.Get("code") == "":
		res.err = fmt.Errorf("the browser came back without an authorization code")
	default:
		res.code = q.Get("code")
	}
	first := false
	c.once.Do(func() { first = true; c.results <- res })
	return first
}

// paste checks a redirect URL the user copied from the browser's address
// bar (when the browser runs elsewhere and cannot reach the listener) as a
// callback and delivers it. An error says why the URL was not taken; the
// login goes on waiting.
func (c *callback) paste(redirect *url.URL, line string) error {
	u, err := url.Parse(strings.TrimSpace(line))
	if err != nil || u.Path != c.path && !(c.path == "/" && u.Path == "") || !strings.EqualFold(u.Host, redirect.Host) {
		return fmt.Errorf("that is not the address the browser was sent back to: paste the whole URL starting with %s", redirect.String())
	}
	q := u.Query()
	if !c.ours(q) {
		return errors.New("that address does not belong to this login (its state does not match): paste the address from the tab this login opened")
	}
	c.deliver(q)
	return nil
}

// page answers the browser with a short page. Title and text may hold what
// the server sent, so both are escaped; html/template would do the same at
// the cost of parsing a template at every start of dbtdbx.
func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	t, x := html.EscapeString(title), html.EscapeString(text)
	_, _ = fmt.Fprintf(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>dbtdbx: %s</title></head>
<body style="font-family: sans-serif; margin: 3em;"><h1>%s</h1><p>%s</p></body></html>
`, t, t, x)
}

// ServerError is an OAuth error sent by the authorization or token server.
type ServerError struct {
	Code        string
	Description string
}

func (e *ServerError) Error() string {
	if e.Description == "" {
		return "the server answered " + printable(e.Code)
	}
	return fmt.Sprintf("the server answered %s: %s", printable(e.Code), printable(e.Description))
}

// printable drops control characters (terminal escapes, line breaks) from
// text that came from the network, before it reaches a terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
