package cmd

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionTemplate makes `dbtdbx --version` print what `dbtdbx version` does.
// The version is looked up only when it is printed: reading the build
// information costs every other command its start-up time.
const versionTemplate = "dbtdbx {{dbtdbxVersion}}\n"

func init() {
	cobra.AddTemplateFunc("dbtdbxVersion", version)
}

// version is Version, stamped.
func version() string {
	stampVersion()
	return Version
}

// stampVersion fills Version from the module version the go command records
// when a release build did not stamp it with -ldflags -X: `go install
// github.com/dbtdbx/dbtdbx@v1.2.3` then reports v1.2.3 rather than dev.
func stampVersion() {
	if Version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		Version = bi.Main.Version
	}
}
