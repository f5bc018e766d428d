package auth

import (
	"context"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials gets a token for a service principal with the
// client-credentials grant (OAuth M2M): c.ClientID and c.ClientSecret are
// sent in the form body to c.Endpoints.TokenURL. No refresh token is issued;
// when the token is due, ask again.
func (c *Client) ClientCredentials(ctx context.Context, scopes []string) (*oauth2.Token, error) {
	conf := &clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     c.Endpoints.TokenURL,
		Scopes:       scopes,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := conf.Token(c.context(ctx))
	if err != nil {
		return nil, tokenError("get a token for the service principal", conf.TokenURL, err)
	}
	return tok, nil
}
