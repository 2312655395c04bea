package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/flatguard/flatguard/internal/report"
)

// parseTarget checks rawURL and returns it ready to fetch, or the
// invalid_url problem that makes any request pointless.
func parseTarget(rawURL string) (*url.URL, *Problem) {
	if rawURL == "" {
		return nil, invalidURL("the URL is empty")
	}
	for i, r := range rawURL {
		switch {
		case r == utf8.RuneError:
			return nil, invalidURL(fmt.Sprintf("the URL is not valid UTF-8 at byte %d", i))
		case unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return nil, invalidURL(fmt.Sprintf("the URL holds whitespace or an invisible character (%U) at byte %d", r, i))
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, invalidURL("the URL cannot be parsed: " + redactText(err.Error()))
	}
	if err := normalizeURL(u); err != nil {
		return nil, invalidURL(err.Error())
	}
	return u, nil
}

func invalidURL(msg string) *Problem {
	return &Problem{Code: report.CodeInvalidURL, Message: msg}
}

// normalizeURL checks that u is an absolute http(s) URL and puts its host
// in the form that goes on the wire: punycode for international names, the
// dotted quad for numeric IPv4 forms. It drops what is never sent: user
// information (no credentials go out) and the fragment.
func normalizeURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return errors.New("the URL is not absolute: it needs http:// or https://")
		}
		return fmt.Errorf("the URL scheme %q is not http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return errors.New("the URL has no host")
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("the URL port %q is out of range", port)
		}
	}
	host, err := normalizeHost(u.Hostname())
	if err != nil {
		return err
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	return nil
}

// normalizeHost returns the host as it is looked up and sent.
//
// Numeric IPv4 forms browsers accept (127.1, 0x7f.1, 2130706433,
// 0177.0.0.1) are read as the address they denote, as the WHATWG URL
// standard does, so the address policy judges them; a host whose last label
// is numeric but is no such address is invalid. Either way no such host is
// ever handed to a resolver, some of which would read it differently.
func normalizeHost(h string) (string, error) {
	if h == "" {
		return "", errors.New("the URL has no host")
	}
	if strings.Contains(h, ":") {
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("the URL host %q is not a valid IPv6 address", h)
		}
		return a.String(), nil
	}
	if !isASCII(h) {
		ascii, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", fmt.Errorf("the URL host %q is not a valid international domain name", h)
		}
		h = ascii
	}
	h = strings.ToLower(h)
	if endsInNumber(h) {
		a, ok := parseIPv4(h)
		if !ok {
			return "", fmt.Errorf("the URL host %q is not a valid IPv4 address", h)
		}
		return a.String(), nil
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "", fmt.Errorf("the URL host %q holds the character %q", h, c)
		}
	}
	return h, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// endsInNumber reports whether the last label of h (ignoring one trailing
// dot) is decimal digits or a 0x hex number, which makes h an IPv4 address
// under the WHATWG URL standard.
func endsInNumber(h string) bool {
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	return strings.HasPrefix(last, "0x") && strings.Trim(last[2:], "0123456789abcdef") == ""
}

// parseIPv4 reads the WHATWG IPv4 forms: one to four parts, each decimal,
// 0x hex or 0-prefixed octal; the last part fills the remaining bytes.
func parseIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(strings.TrimSuffix(h, "."), ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Part(p string) (uint64, bool) {
	base := 10
	switch {
	case p == "":
		return 0, false
	case strings.HasPrefix(p, "0x"):
		p, base = p[2:], 16
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil || n > 1<<32 {
		return 0, false
	}
	return n, true
}

// resolveLocation returns the URL a redirect's Location leads to.
func resolveLocation(base *url.URL, location string) (*url.URL, error) {
	ref, err := url.Parse(location)
	if err != nil {
		return nil, errors.New("the Location header cannot be parsed")
	}
	next := base.ResolveReference(ref)
	if err := normalizeURL(next); err != nil {
		return nil, err
	}
	return next, nil
}

// wireURL returns the URL the request is sent to: u with its path and query
// escaped exactly as written. Go keeps a path's escaping (RawPath) only
// while all of it is valid; when it is not (a "|" next to a "%2F", say) Go
// re-escapes the whole path and %2F becomes "/". wireURL escapes only the
// bytes that cannot go into a request line and keeps every %XX as it was.
// Like browsers it sends non-ASCII bytes percent-encoded.
func wireURL(u *url.URL) *url.URL {
	w := *u
	if u.RawPath != "" {
		if p := escapeBytes(u.RawPath, "\"<>^`{}"); p != u.EscapedPath() && !strings.HasPrefix(p, "//") {
			w.Opaque, w.RawPath = p, ""
		}
	}
	w.RawQuery = escapeBytes(u.RawQuery, "\"<>")
	return &w
}

// escapeBytes percent-encodes the non-ASCII bytes of s and those in set.
func escapeBytes(s, set string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c <= ' ' || c == 0x7f || strings.IndexByte(set, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
