package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NormalizeHost turns the spellings of a workspace host that people use into
// the one form dbtdbx keys tokens by: "https://host" or "https://host:port",
// lower case, without path, query, fragment or the default port.
//
// A bare host ("adb-1.2.azuredatabricks.net"), "host:443", a trailing slash,
// a path and a "?o=123" query are all accepted. Plain "http://" is accepted
// only for loopback hosts, which is how a local test server is reached.
func NormalizeHost(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("workspace host is empty: pass --host or set DATABRICKS_HOST")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil && strings.Contains(s, "@") {
		// What comes before the @ may be a password.
		return "", badValue("it is not a URL or host name", "workspace host is not a URL or host name (not shown: it holds an @, and may hold a password)")
	}
	if err != nil {
		return "", badValue("it is not a URL or host name", "workspace host %q is not a URL or host name", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	if u.User != nil {
		// Not quoted as given: the user name or password may be a secret.
		u.User = nil
		return "", badValue("it must not carry a user name or password", "workspace host %q must not carry a user name or password (not shown)", u.String())
	}
	hostname := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if hostname == "" {
		return "", badValue("it has no host name", "workspace host %q has no host name", raw)
	}
	if strings.ContainsAny(hostname, " \t%") || !validHostname(hostname) {
		return "", badValue("it has an invalid host name", "workspace host %q has an invalid host name %q", raw, hostname)
	}
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		port = ""
	}
	if port != "" {
		if !validPort(port) {
			return "", badValue("it has an invalid port", "workspace host %q has an invalid port %q", raw, port)
		}
		port = strings.TrimLeft(port, "0")
	}
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !IsLoopback(hostname) {
			return "", badValue("it uses plain http: Databricks workspaces are reached over https (http is allowed only for loopback test servers)", "workspace host %q uses plain http: Databricks workspaces are reached over https (http is allowed only for loopback test servers)", raw)
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", badValue("its scheme is not https: use https://", "workspace host %q has scheme %q: use https://", raw, u.Scheme)
	}
	host := hostname
	if strings.Contains(hostname, ":") {
		host = "[" + hostname + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// valueError is an error that quotes the value it is about. Its reason
// says what is wrong without the value, for a value that may be a secret
// (one a profile rendered from env_var()).
type valueError struct {
	msg, reason string
}

func (e *valueError) Error() string { return e.msg }

// badValue returns a valueError: reason without the value, and the
// message format and args make with it.
func badValue(reason, format string, args ...any) error {
	return &valueError{fmt.Sprintf(format, args...), reason}
}

// IsLoopback reports whether a host name (without port) names this machine's
// loopback interface.
func IsLoopback(hostname string) bool {
	if strings.EqualFold(hostname, "localhost") {
		return true
	}
	ip := net.ParseIP(hostname)
	return ip != nil && ip.IsLoopback()
}

func validPort(p string) bool {
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n > 0 && n <= 65535
}

func validHostname(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
