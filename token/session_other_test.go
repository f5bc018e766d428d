//go:build !linux

package token

import "errors"

func joinNewSessionKeyring() error { return errors.New("no kernel keyring on this system") }
