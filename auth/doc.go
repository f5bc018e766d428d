// Package auth talks OAuth 2.0 to a Databricks workspace: it discovers the
// workspace's endpoints, runs the authorization-code flow with PKCE through a
// loopback listener, and refreshes tokens. It knows nothing of where tokens
// are kept; package token does that.
package auth
