// Command dbtdbx signs a developer into Databricks on behalf of a dbt project
// and hands fresh bearer tokens to whatever needs them.
package main

import (
	"os"

	"github.com/dbtdbx/dbtdbx/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
