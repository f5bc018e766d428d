//go:build !linux

package stored

import "errors"

func joinNewSessionKeyring() error { return errors.New("no kernel keyring on this system") }
