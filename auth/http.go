package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NewHTTPClient returns the client dbtdbx uses for every OAuth request: each
// request, retries included, is bounded by timeout; a 429 or 5xx answer is
// retried a few times with backoff; proxies come from HTTPS_PROXY/NO_PROXY;
// and when log is not nil every exchange is logged with its secrets redacted.
func NewHTTPClient(timeout time.Duration, log *slog.Logger) *http.Client {
	var rt http.RoundTripper = http.DefaultTransport
	if log != nil {
		rt = &debugTransport{base: rt, log: log}
	}
	return &http.Client{Timeout: timeout, Transport: &retryTransport{base: rt}}
}

// sensitive names the parameters and JSON fields whose values are secrets.
var sensitive = map[string]bool{
	"code": true, "code_verifier": true, "state": true, "refresh_token": true,
	"access_token": true, "id_token": true, "client_secret": true, "password": true,
	"token": true, "assertion": true,
}

const redacted = "[REDACTED]"

// RedactValues returns a copy of v with every secret value replaced.
func RedactValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, s := range vs {
			if sensitive[k] {
				s = redacted
			}
			out.Add(k, s)
		}
	}
	return out
}

// RedactURL returns u as a string with secret query values replaced.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = RedactValues(u.Query()).Encode()
	return c.String()
}

// redactJSON returns the top-level fields of a JSON object with secrets
// replaced, or a length note when the body is not a JSON object.
func redactJSON(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return fmt.Sprintf("(%d bytes, not a JSON object)", len(body))
	}
	for k := range m {
		if sensitive[k] {
			m[k] = redacted
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type debugTransport struct {
	base http.RoundTripper
	log  *slog.Logger
}

func (d *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attrs := []any{"method", req.Method, "url", RedactURL(req.URL)}
	if req.Body != nil && req.GetBody != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if body, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			if form, err := url.ParseQuery(string(b)); err == nil {
				attrs = append(attrs, "form", RedactValues(form).Encode())
			}
		}
	}
	d.log.Debug("http request", attrs...)
	start := time.Now()
	resp, err := d.base.RoundTrip(req)
	if err != nil {
		d.log.Debug("http error", "url", RedactURL(req.URL), "error", err.Error(), "elapsed", time.Since(start).Round(time.Millisecond))
		return nil, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	d.log.Debug("http response", "url", RedactURL(req.URL), "status", resp.StatusCode,
		"elapsed", time.Since(start).Round(time.Millisecond), "body", redactJSON(b))
	if rerr != nil {
		return nil, rerr
	}
	return resp, nil
}

// networkError turns a transport failure into one line that names the host,
// instead of a stack of wrapped errors.
func networkError(host string, err error) error {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var uerr *url.Error
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot reach %s: the name %q does not resolve (check the host and your network)", host, dnsErr.Name)
	case errors.As(err, &uerr) && uerr.Timeout():
		return fmt.Errorf("cannot reach %s: no answer in time (raise --http-timeout or check your network and proxy)", host)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("cannot reach %s: %v (check the host, your network and HTTPS_PROXY)", host, opErr.Err)
	default:
		return fmt.Errorf("cannot reach %s: %v", host, err)
	}
}
