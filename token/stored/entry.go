// Package token keeps tokens: the stores that hold a login (the OS keyring),
// and the Source that hands out a valid access token, refreshing it when due.
package stored

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// EntryVersion is the version of the stored entry format written by this
// build. Decode reads this version and every earlier one.
const EntryVersion = 1

// Key names one login: a workspace host (normalised) and an OAuth client.
type Key struct {
	Host     string
	ClientID string
}

// String is the account name the entry is stored under.
func (k Key) String() string { return k.ClientID + "@" + k.Host }

// Entry is one stored login. Its JSON form is what the stores keep.
type Entry struct {
	Version      int       `json:"version"`
	Host         string    `json:"host"`
	ClientID     string    `json:"client_id"`
	Scopes       []string  `json:"scopes"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry"`
	// Obtained is when the access token was issued; Expiry-Obtained is its
	// full lifetime, which decides when it is due for a refresh.
	Obtained time.Time `json:"obtained"`
	// TokenURL is the token endpoint found at login, so a refresh needs no
	// discovery.
	TokenURL string `json:"token_url"`
}

// Key returns the key the entry belongs to.
func (e *Entry) Key() Key { return Key{Host: e.Host, ClientID: e.ClientID} }

// Lifetime is the access token's full lifetime as issued.
func (e *Entry) Lifetime() time.Duration {
	if d := e.Expiry.Sub(e.Obtained); d > 0 {
		return d
	}
	return time.Hour
}

// HasScopes reports whether the login was granted every scope in want.
func (e *Entry) HasScopes(want []string) (missing []string) {
	for _, s := range want {
		if !slices.Contains(e.Scopes, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// Encode returns the stored form of e, stamped with EntryVersion.
func (e *Entry) Encode() ([]byte, error) {
	c := *e
	c.Version = EntryVersion
	return json.Marshal(&c)
}

// ErrCorrupt is wrapped by Decode when stored bytes are not a usable entry.
var ErrCorrupt = errors.New("stored login is unreadable")

// Decode reads an entry written by this or an earlier version.
func Decode(b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	switch {
	case e.Version < 1:
		return nil, fmt.Errorf("%w: no format version", ErrCorrupt)
	case e.Version > EntryVersion:
		return nil, fmt.Errorf("%w: written by a newer dbtdbx (format %d, this one reads up to %d): upgrade dbtdbx", ErrCorrupt, e.Version, EntryVersion)
	case e.Host == "" || e.ClientID == "" || e.AccessToken == "" && e.RefreshToken == "":
		return nil, fmt.Errorf("%w: host, client id or tokens missing", ErrCorrupt)
	}
	return &e, nil
}
