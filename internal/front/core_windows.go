//go:build windows

package front

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
)

// run runs core as a child with this process's standard streams, and returns
// its exit status. Windows has no exec: Ctrl-C reaches every process on the
// console, so the front ignores it and lets the core decide.
func run(core string, args []string) error {
	signal.Ignore(os.Interrupt)
	c := exec.Command(core, args...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	c.Env = coreEnv()
	if err := c.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			return err
		}
		return fmt.Errorf("cannot run %s: %w", core, err)
	}
	return nil
}
