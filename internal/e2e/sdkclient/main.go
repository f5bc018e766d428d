// Command sdkclient is a client built on the Databricks SDK for Go, for
// dbtdbx's end-to-end tests. It is configured by the environment only, as a
// tool that dbtdbx exec starts (or one started with dbtdbx serve's
// variables) is, and calls the workspace's current-user API every -interval
// for -duration, printing one JSON line per call on stdout. The token the
// SDK used is printed as a digest, never itself.
//
// It is a module of its own, so that the SDK is no dependency of dbtdbx.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// call is one line of output.
type call struct {
	N        int    `json:"n"`
	Time     int64  `json:"time_ms"`
	AuthType string `json:"auth_type,omitempty"`
	User     string `json:"user,omitempty"`
	Token    string `json:"token_sha256,omitempty"` // the first 12 hex digits
	Error    string `json:"error,omitempty"`
}

func main() {
	duration := flag.Duration("duration", 0, "how long to keep calling; 0 calls once")
	interval := flag.Duration("interval", time.Second, "time between calls")
	flag.Parse()

	out := json.NewEncoder(os.Stdout)
	w, err := databricks.NewWorkspaceClient()
	if err != nil {
		_ = out.Encode(call{Time: time.Now().UnixMilli(), Error: "configuring the SDK: " + err.Error()})
		os.Exit(1)
	}
	ctx := context.Background()
	failed := false
	end := time.Now().Add(*duration)
	for n := 0; ; n++ {
		c := call{N: n, Time: time.Now().UnixMilli()}
		// The token the SDK holds now, the one the call below sends.
		if digest, err := tokenDigest(w.Config.Authenticate); err != nil {
			c.Error = "authenticating: " + err.Error()
		} else {
			c.Token = digest
			c.AuthType = w.Config.AuthType
			me, err := w.CurrentUser.Me(ctx, iam.MeRequest{})
			if err != nil {
				c.Error = err.Error()
			} else {
				c.User = me.UserName
			}
		}
		failed = failed || c.Error != ""
		_ = out.Encode(c)
		if !time.Now().Add(*interval).Before(end) {
			break
		}
		time.Sleep(*interval)
	}
	if failed {
		os.Exit(1)
	}
}

// tokenDigest returns the first 12 hex digits of the SHA-256 of the bearer
// token that authenticate puts on a request.
func tokenDigest(authenticate func(*http.Request) error) (string, error) {
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	if err := authenticate(r); err != nil {
		return "", err
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "", fmt.Errorf("no bearer token set")
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])[:12], nil
}
