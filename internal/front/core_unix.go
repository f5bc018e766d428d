//go:build unix

package front

import (
	"fmt"
	"syscall"
)

// run replaces this process with core: same process id, same signals, same
// file descriptors, and argv[0] still dbtdbx.
func run(core string, args []string) error {
	argv := append([]string{"dbtdbx"}, args...)
	if err := syscall.Exec(core, argv, coreEnv()); err != nil {
		return fmt.Errorf("cannot run %s: %w", core, err)
	}
	return nil
}
