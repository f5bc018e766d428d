// Package version is dbtdbx's version, one for both of its binaries.
package version

import "runtime/debug"

// Version is stamped at build time:
// -ldflags "-X github.com/dbtdbx/dbtdbx/internal/version.Version=v1.2.3".
var Version = "dev"

// EnvFront carries the version of the dbtdbx that handed a command over to
// dbtdbx-core, which warns when its own differs: the two binaries come from
// one release, and a front of another release may serve tokens as the core
// would not.
const EnvFront = "DBTDBX_FRONT_VERSION"

// String is Version, or when no release build stamped it, the module
// version the go command records: `go install
// github.com/dbtdbx/dbtdbx@v1.2.3` reports v1.2.3 rather than dev. The
// build information is read only here: it costs start-up time.
func String() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}
