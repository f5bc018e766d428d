package cmd

import "runtime/debug"

// versionTemplate makes `dbtdbx --version` print what `dbtdbx version` does.
const versionTemplate = "dbtdbx {{.Version}}\n"

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
