//go:build unix

package front

import (
	"fmt"
	"os"
	"syscall"
)

// run replaces this process with core: same process id, same signals, same
// file descriptors, and argv[0] still dbtdbx.
func run(core string, args []string) error {
	argv := append([]string{"dbtdbx"}, args...)
	if err := syscall.Exec(core, argv, os.Environ()); err != nil {
		return fmt.Errorf("cannot run %s: %w", core, err)
	}
	return nil
}
