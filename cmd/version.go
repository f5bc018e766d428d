package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/internal/version"
)

// versionTemplate makes `dbtdbx --version` print what `dbtdbx version` does.
// The version is looked up only when it is printed: reading the build
// information costs every other command its start-up time.
const versionTemplate = "dbtdbx {{dbtdbxVersion}}\n"

func init() {
	cobra.AddTemplateFunc("dbtdbxVersion", version.String)
}

// warnOtherFront warns when the dbtdbx that handed this command over is of
// another version than this dbtdbx-core.
func warnOtherFront(w io.Writer, getenv func(string) string) {
	front := getenv(version.EnvFront)
	if front == "" {
		return
	}
	// A release stamps 1.2.3, go install records v1.2.3: the same.
	if core := version.String(); strings.TrimPrefix(front, "v") != strings.TrimPrefix(core, "v") {
		fmt.Fprintf(w, "dbtdbx: warning: dbtdbx is %s but dbtdbx-core is %s: install both from the same release\n", front, core)
	}
}
