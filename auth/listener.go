package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// ErrPortInUse is returned by Listen when the redirect URL's port is taken.
var ErrPortInUse = errors.New("redirect port in use")

// Listen binds the loopback sockets that serve redirect: 127.0.0.1 and, when
// the redirect host is "localhost" and the machine has IPv6, ::1 too, both on
// the redirect URL's own port. It never picks another port: the redirect URI
// must match the registered one exactly. The sockets stay open until the
// caller closes them, so nothing else can take the port in between.
func Listen(redirect string) ([]net.Listener, error) {
	u, err := url.Parse(redirect)
	if err != nil {
		return nil, fmt.Errorf("redirect URL %q: %v", redirect, err)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	host := strings.ToLower(u.Hostname())
	var addrs []string
	optional := map[string]bool{}
	switch {
	case host == "localhost":
		addrs = []string{"127.0.0.1", "::1"}
		optional["::1"] = true
	case net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback():
		addrs = []string{host}
	default:
		return nil, fmt.Errorf("redirect URL %q does not point at this machine", redirect)
	}
	var ls []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, port))
		if err != nil {
			if optional[a] && !errors.Is(err, syscall.EADDRINUSE) {
				continue // no IPv6 loopback here
			}
			for _, prev := range ls {
				prev.Close()
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("%w: port %s on %s is taken by another program, so the browser cannot be sent back to dbtdbx at %s; "+
					"stop that program, or pass --redirect-url with another redirect URL that the app connection registers", ErrPortInUse, port, a, redirect)
			}
			return nil, fmt.Errorf("cannot listen on %s for the browser's redirect: %v", net.JoinHostPort(a, port), err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}
