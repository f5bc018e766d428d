package stored

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// joinNewSessionKeyring gives the process a new session keyring of its own,
// in which the user keyring is not linked.
func joinNewSessionKeyring() error {
	_, err := unix.KeyctlJoinSessionKeyring(fmt.Sprintf("dbtdbx-test-%d", os.Getpid()))
	return err
}
