package token

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// The Databricks SDKs' "metadata-service" credentials provider: a client
// sends GET to DATABRICKS_METADATA_SERVICE_URL with these headers and gets
// {"access_token", "token_type", "expires_on"} back.
const (
	// MetadataVersion is the protocol version served.
	MetadataVersion = "1"
	// MetadataVersionHeader carries the protocol version the client speaks.
	MetadataVersionHeader = "X-Databricks-Metadata-Version"
	// MetadataHostHeader names the workspace the client wants a token for.
	MetadataHostHeader = "X-Databricks-Host"
)

// MetadataMargin is the least by which a token's expires_on comes before
// its real expiry. The SDKs keep using a cached token until expires_on and
// ask again only after it; reporting Floor early keeps them from sending a
// token the server rejects for having 30 s or less left, and the 5 s more
// cover a request's way to the server.
const MetadataMargin = Floor + 5*time.Second

// MetadataHandler answers the Databricks SDKs' metadata-service requests
// for one workspace:
//
//   - only from loopback addresses, and only with a Host header naming
//     127.0.0.1 or localhost (403 otherwise: a web page that rebinds its
//     DNS name to 127.0.0.1 sends its own name), only on Path (404
//     elsewhere), since any local process can connect to a loopback port,
//     and only GET (405);
//   - X-Databricks-Metadata-Version must be "1" (400 when missing or other);
//   - X-Databricks-Host must name Host (400 when missing, 403 when another);
//   - then it answers {"access_token", "token_type": "Bearer",
//     "expires_on": unix seconds}, expires_on being when the token is due
//     for a refresh (see Ahead).
//
// Errors are Databricks API error bodies ({"error_code", "message"}), which
// the SDKs show; neither they nor the debug log ever hold the token or Path.
// A MetadataHandler is safe for concurrent use; it must not be copied after
// first use.
type MetadataHandler struct {
	// Path is the one path served: "/" and an unguessable secret (see
	// NewMetadataPath). It is a credential, like the tokens it hands out.
	Path string
	// Host is the workspace, normalised, whose tokens Token returns.
	Host string
	// SameHost reports whether a host a client names is Host. nil compares
	// them ignoring case and a trailing slash.
	SameHost func(host string) bool
	// Token returns a token for Host that is not due for a refresh. It is
	// called for one request at a time, with a context that a client going
	// away does not cancel, so a refresh is never cut off halfway. An error
	// wrapping ErrLoginRequired is answered 401, others 500; its message
	// reaches the client.
	Token func(ctx context.Context) (*Entry, error)
	// Ahead returns how long before its expiry Token refreshes e (Threshold,
	// with Token's parameters). expires_on is reported that long, and at
	// least MetadataMargin, before the expiry: a client then asks again
	// just when a new token is due, and never keeps using a token after
	// dbtdbx has replaced it (which some servers revoke on refresh). nil
	// means MetadataMargin.
	Ahead func(e *Entry) time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per request when not nil.
	Log *slog.Logger

	mu sync.Mutex // serialises Token
}

// NewMetadataPath returns a path for MetadataHandler.Path: "/" and 256
// random bits.
func NewMetadataPath() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot make the token service's secret: %w", err)
	}
	return "/" + base64.RawURLEncoding.EncodeToString(b), nil
}

// metadataResponse is the body of a successful answer.
type metadataResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresOn   int64  `json:"expires_on"`
}

func (h *MetadataHandler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ServeHTTP implements http.Handler.
func (h *MetadataHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, attrs := h.serve(w, r)
	if h.Log != nil {
		// Neither the path (it may be the secret, or close to it) nor the
		// answer's token is logged.
		pathNote := "other"
		if h.isPath(r.URL.EscapedPath()) {
			pathNote = "the service's"
		}
		h.Log.Debug("token service request", append([]any{"method", r.Method, "path", pathNote,
			"remote", r.RemoteAddr, "status", code}, attrs...)...)
	}
}

// serve answers r and returns the status code and what to log.
func (h *MetadataHandler) serve(w http.ResponseWriter, r *http.Request) (int, []any) {
	if !loopbackRemote(r.RemoteAddr) {
		return metadataError(w, http.StatusForbidden, "PERMISSION_DENIED", "the token service answers processes on this machine only"), nil
	}
	if !loopbackHost(r.Host) {
		// A web page that rebinds its DNS name to 127.0.0.1 sends its
		// own name in Host.
		return metadataError(w, http.StatusForbidden, "PERMISSION_DENIED", "the token service answers requests to 127.0.0.1 or localhost only"), nil
	}
	if !h.isPath(r.URL.EscapedPath()) {
		return metadataError(w, http.StatusNotFound, "NOT_FOUND", "no such path"), nil
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return metadataError(w, http.StatusMethodNotAllowed, "BAD_REQUEST", "use GET"), nil
	}
	switch v := r.Header.Get(MetadataVersionHeader); v {
	case MetadataVersion:
	case "":
		return metadataError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "missing header "+MetadataVersionHeader+" (this service speaks version "+MetadataVersion+")"), nil
	default:
		return metadataError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("unsupported %s %q (this service speaks version %s)", MetadataVersionHeader, v, MetadataVersion)), []any{"version", v}
	}
	host := r.Header.Get(MetadataHostHeader)
	if host == "" {
		return metadataError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "missing header "+MetadataHostHeader), nil
	}
	if !h.sameHost(host) {
		return metadataError(w, http.StatusForbidden, "PERMISSION_DENIED", fmt.Sprintf("this service hands out tokens for %s only, not for %q", h.Host, host)), []any{"host", host}
	}

	e, err := h.token(r.Context())
	switch {
	case errors.Is(err, ErrLoginRequired):
		return metadataError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "dbtdbx: "+err.Error()), []any{"error", err.Error()}
	case err != nil:
		return metadataError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "dbtdbx: "+err.Error()), []any{"error", err.Error()}
	}
	now := h.now()
	// A personal access token's expiry is unknown: ask again in an hour.
	expiresOn := now.Add(time.Hour)
	if !e.Expiry.IsZero() {
		expiresOn = e.Expiry.Add(-h.ahead(e))
	}
	resp := metadataResponse{
		AccessToken: e.AccessToken,
		TokenType:   bearer(e.TokenType),
		ExpiresOn:   expiresOn.Unix(), // rounded down
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(resp)
	return http.StatusOK, []any{"expires_on", time.Unix(resp.ExpiresOn, 0).UTC().Format(time.RFC3339), "left", e.Expiry.Sub(now).Round(time.Second)}
}

// ahead is how long before e's expiry expires_on is.
func (h *MetadataHandler) ahead(e *Entry) time.Duration {
	if h.Ahead == nil {
		return MetadataMargin
	}
	return max(h.Ahead(e), MetadataMargin)
}

// token calls h.Token, one request at a time.
func (h *MetadataHandler) token(ctx context.Context) (*Entry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.Token(context.WithoutCancel(ctx))
}

// isPath reports whether p is h.Path, in time that does not depend on how
// much of it matches.
func (h *MetadataHandler) isPath(p string) bool {
	return h.Path != "" && subtle.ConstantTimeCompare([]byte(p), []byte(h.Path)) == 1
}

func (h *MetadataHandler) sameHost(host string) bool {
	if h.SameHost != nil {
		return h.SameHost(host)
	}
	trim := func(s string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "/")) }
	return trim(host) == trim(h.Host)
}

// loopbackRemote reports whether a request's RemoteAddr is a loopback
// address.
func loopbackRemote(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// loopbackHost reports whether a request's Host names the loopback service.
func loopbackHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(name)
	return err == nil && a.Unmap().IsLoopback()
}

// bearer is the token type to report: "Bearer" unless the server said
// something else.
func bearer(t string) string {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer"
	}
	return t
}

// metadataError writes a Databricks API error body and returns code.
func metadataError(w http.ResponseWriter, code int, errorCode, message string) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": errorCode, "message": message})
	return code
}

// MetadataService is a MetadataHandler served on a loopback port. Close
// stops it.
type MetadataService struct {
	// URL is what DATABRICKS_METADATA_SERVICE_URL must be set to:
	// http://127.0.0.1:PORT and the handler's Path. It is a credential.
	URL string
	// Addr is the address listened on, without the secret, for messages.
	Addr string

	srv  *http.Server
	done chan struct{}
}

// ServeMetadata listens on addr and serves h until Close. addr is
// "127.0.0.1:PORT" or "localhost:PORT" (port 0 picks a free one): the
// Databricks SDKs accept a metadata service on those hosts only. When
// h.Path is empty, ServeMetadata sets it with NewMetadataPath.
func ServeMetadata(addr string, h *MetadataHandler) (*MetadataService, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("token service address %q: %w", addr, err)
	}
	if host != "127.0.0.1" && !strings.EqualFold(host, "localhost") {
		return nil, fmt.Errorf("token service address %q: listen on 127.0.0.1 (or localhost), the only hosts the Databricks SDKs accept for a metadata service", addr)
	}
	if h.Path == "" {
		if h.Path, err = NewMetadataPath(); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, fmt.Errorf("token service: %w", err)
	}
	errorLog := log.New(io.Discard, "", 0)
	if h.Log != nil {
		errorLog = slog.NewLogLogger(h.Log.Handler(), slog.LevelDebug)
	}
	s := &MetadataService{
		Addr: l.Addr().String(),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          errorLog,
		},
		done: make(chan struct{}),
	}
	s.URL = "http://" + s.Addr + h.Path
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

// Close stops listening at once and waits, until ctx ends, for the
// requests being answered.
func (s *MetadataService) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
