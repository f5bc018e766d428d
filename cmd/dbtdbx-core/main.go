// Command dbtdbx-core runs every dbtdbx command. Users run dbtdbx, which
// prints a cached token itself and hands everything else to this binary,
// installed beside it.
package main

import (
	"os"

	"github.com/dbtdbx/dbtdbx/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
