package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// DiscoveryPath is where a Databricks workspace publishes its OAuth
// authorization server metadata (RFC 8414), relative to the host.
const DiscoveryPath = "/oidc/.well-known/oauth-authorization-server"

// ErrOAuthNotEnabled is returned by Discover when the workspace answers 404
// at DiscoveryPath: OAuth is not enabled for that host.
var ErrOAuthNotEnabled = errors.New("OAuth is not enabled for this workspace")

// Endpoints are the two OAuth endpoints dbtdbx uses.
type Endpoints struct {
	AuthURL  string `json:"authorization_endpoint"`
	TokenURL string `json:"token_endpoint"`
}

// Discover fetches the workspace's endpoints from DiscoveryPath. host must
// be normalised (config.NormalizeHost).
func Discover(ctx context.Context, client *http.Client, host string) (Endpoints, error) {
	where := host + DiscoveryPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return Endpoints{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Endpoints{}, networkError(host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Endpoints{}, networkError(host, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return Endpoints{}, fmt.Errorf("%w: %s answered 404 (check the host, and that OAuth is enabled for the workspace)", ErrOAuthNotEnabled, where)
	case resp.StatusCode != http.StatusOK:
		return Endpoints{}, fmt.Errorf("OAuth discovery at %s failed: HTTP %d", where, resp.StatusCode)
	}
	return ParseDiscovery(body, where)
}

// ParseDiscovery decodes a discovery document and checks that both
// endpoints are absolute http(s) URLs. where names the document in errors.
func ParseDiscovery(body []byte, where string) (Endpoints, error) {
	var ep Endpoints
	if err := json.Unmarshal(body, &ep); err != nil {
		return Endpoints{}, fmt.Errorf("OAuth discovery at %s did not return a JSON document: %v", where, err)
	}
	for name, v := range map[string]string{"authorization_endpoint": ep.AuthURL, "token_endpoint": ep.TokenURL} {
		u, err := url.Parse(v)
		if v == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Endpoints{}, fmt.Errorf("OAuth discovery at %s has no usable %s (got %q)", where, name, v)
		}
	}
	return ep, nil
}
