// Command dbtdbx signs a developer into Databricks on behalf of a dbt project
// and hands fresh bearer tokens to whatever needs them.
//
// This binary prints a cached token itself (see package internal/front) and
// hands every other command to dbtdbx-core, installed beside it, which holds
// the rest of dbtdbx.
package main

import (
	"os"
	"time"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/internal/front"
)

func main() {
	if env, err := config.OSEnv(); err == nil {
		if code, served := front.Token(os.Args[1:], env, time.Now, os.Stdout, os.Stderr); served {
			os.Exit(code)
		}
	}
	os.Exit(front.HandOver(os.Args[1:], os.Getenv, os.Stderr))
}
