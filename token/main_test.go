package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

// envChild makes this test binary a child process of a test (see child).
const envChild = "DBTDBX_TOKEN_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// probeReport is what a "keyring-probe" child saw: go-keyring's own error and
// the Keyring store's, each with how KeyringUnavailable classifies it.
type probeReport struct {
	Raw            string `json:"raw"`
	RawUnavailable bool   `json:"raw_unavailable"`
	Err            string `json:"err"`
	Unavailable    bool   `json:"unavailable"`
	NoKeyring      bool   `json:"no_keyring"`
	Timeout        bool   `json:"timeout"`
}

// child runs in a process of its own, because go-keyring reads the bus
// address once, when it first connects.
func child(mode string) int {
	switch mode {
	case "keyring-probe":
		var r probeReport
		if _, err := keyring.Get(KeyringService, "dbtdbx-probe"); err != nil {
			r.Raw, r.RawUnavailable = err.Error(), KeyringUnavailable(err)
		}
		k := &Keyring{Timeout: 20 * time.Second}
		if _, err := k.Load(Key{Host: "https://probe.example", ClientID: "probe"}); err != nil {
			r.Err, r.Unavailable = err.Error(), KeyringUnavailable(err)
			r.NoKeyring, r.Timeout = errors.Is(err, ErrNoKeyring), errors.Is(err, ErrKeyringTimeout)
		}
		if err := json.NewEncoder(os.Stdout).Encode(&r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", envChild, mode)
		return 2
	}
}

// childEnv is the environment of a child process (see realpart.ChildEnv),
// which does not inherit this one's child mode.
func childEnv(drop []string, extra ...string) []string {
	return realpart.ChildEnv(append(drop, envChild), extra...)
}
