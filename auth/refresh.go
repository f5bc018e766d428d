package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// ErrRefreshRejected is wrapped by Refresh when the server says the refresh
// token is dead (invalid_grant, or invalid_request "Refresh token is
// invalid"): only a new login helps.
var ErrRefreshRejected = errors.New("refresh token rejected")

// Refresh trades refreshToken for a new token. When the server rotates
// refresh tokens the result carries the new one; when it does not, the result
// carries refreshToken again.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	conf := c.config("", nil)
	tok, err := conf.TokenSource(c.context(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		err = tokenError("refresh the token", conf.Endpoint.TokenURL, err)
		var se *ServerError
		if errors.As(err, &se) && (se.Code == "invalid_grant" ||
			se.Code == "invalid_request" && strings.Contains(strings.ToLower(se.Description), "refresh token is invalid")) {
			return nil, fmt.Errorf("%w: %v", ErrRefreshRejected, se)
		}
		return nil, err
	}
	return tok, nil
}

// tokenError describes a failed request to the token endpoint in one line,
// without the response body (which could echo a secret).
func tokenError(what, tokenURL string, err error) error {
	host := tokenURL
	if u, perr := url.Parse(tokenURL); perr == nil {
		host = u.Scheme + "://" + u.Host
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		se := &ServerError{Code: re.ErrorCode, Description: re.ErrorDescription}
		if se.Code == "" {
			status := "no response"
			if re.Response != nil {
				status = re.Response.Status
			}
			return fmt.Errorf("could not %s: the token endpoint %s answered %s", what, tokenURL, status)
		}
		return fmt.Errorf("could not %s: %w", what, se)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("could not %s: %w", what, networkError(host, uerr))
	}
	// What is left are answers that are not a token: not JSON, or JSON
	// without an access token (a proxy's login page, a wrong URL).
	return fmt.Errorf("could not %s: the token endpoint %s did not answer with a usable token (%v); check the host and any proxy in between", what, tokenURL, err)
}
