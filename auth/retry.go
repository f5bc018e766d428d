package auth

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retry policy of every OAuth request: a 429 or 5xx answer is tried again,
// up to retries more times, after an exponential backoff with jitter (or the
// server's Retry-After, capped). The whole exchange stays within the
// client's timeout.
const (
	retries       = 3
	backoffBase   = 250 * time.Millisecond
	maxRetryAfter = 5 * time.Second
)

type retryTransport struct {
	base http.RoundTripper
	// sleep waits d or until ctx ends; tests make it instant.
	sleep func(ctx context.Context, d time.Duration) error
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500 && status <= 599
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := t.base.RoundTrip(req)
		if err != nil || !retryable(resp.StatusCode) || attempt == retries || req.Body != nil && req.GetBody == nil {
			return resp, err
		}
		wait := backoff(attempt, resp.Header.Get("Retry-After"))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := t.wait(req.Context(), wait); err != nil {
			return nil, err
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

func (t *retryTransport) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is how long to wait before attempt+1: the server's Retry-After in
// seconds when it gives one (at most maxRetryAfter), else base*2^attempt
// with up to 50% jitter, so that parallel clients do not retry in step.
func backoff(attempt int, retryAfter string) time.Duration {
	if s, err := strconv.Atoi(retryAfter); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	d := backoffBase << attempt
	return d + rand.N(d/2+1)
}
