package validate

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/flatguard/flatguard/internal/presign"
	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
)

// staticResult is what can be said of a URL without fetching it.
type staticResult struct {
	problems []probe.Problem
	// expiresAt is set for a pre-signed URL whose expiry is known.
	expiresAt time.Time
	// fetchable is false when the URL cannot be requested at all.
	fetchable bool
}

// checkStatic looks at a URL as written: is it a well-formed absolute
// http(s) URL, is it plain http, is it a temporary or share link. A clean
// https URL costs no allocation.
func checkStatic(raw string, now time.Time) staticResult {
	if msg := invalidReason(raw); msg != "" {
		return staticResult{problems: []probe.Problem{{Code: report.CodeInvalidURL, Message: msg}}}
	}
	res := staticResult{fetchable: true}
	if len(raw) >= 7 && strings.EqualFold(raw[:7], "http://") {
		res.problems = append(res.problems, probe.Problem{
			Code:    report.CodeInsecureURL,
			Message: "plain http: the marketplace may refuse it; serve the image over https",
		})
	}
	if s, ok := presign.Detect(raw); ok {
		res.problems = append(res.problems, presignedProblem(s, now))
		res.expiresAt = s.ExpiresAt
	}
	if service, ok := presign.Share(raw); ok {
		res.problems = append(res.problems, probe.Problem{
			Code:    report.CodeShareLink,
			Message: fmt.Sprintf("a %s share page, not the image itself: the marketplace gets a web page; link the image file directly", service),
			Detail:  map[string]any{"service": service},
		})
	}
	return res
}

// presignedProblem explains a temporary link.
func presignedProblem(s presign.Signed, now time.Time) probe.Problem {
	detail := map[string]any{"scheme": s.Scheme}
	var msg string
	switch {
	case s.ExpiresAt.IsZero():
		msg = fmt.Sprintf("temporary signed link (%s): the marketplace fetches images later and will be refused; host the image on a permanent public URL", s.Scheme)
	case s.Expired(now):
		detail["expired"] = true
		msg = fmt.Sprintf("temporary signed link (%s) expired at %s: host the image on a permanent public URL", s.Scheme, s.ExpiresAt.UTC().Format(time.RFC3339))
	default:
		detail["expired"] = false
		msg = fmt.Sprintf("temporary signed link (%s) expires at %s, before the marketplace fetches it: host the image on a permanent public URL", s.Scheme, s.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if s.SessionBound {
		detail["sessionBound"] = true
	}
	return probe.Problem{Code: report.CodePresignedURL, Message: msg, Detail: detail}
}

// invalidReason says why raw is not an absolute http(s) URL the marketplace
// can fetch, or "" when it is one.
func invalidReason(raw string) string {
	// One pass finds bad bytes and notes whether a full parse is needed:
	// only URLs with escapes, brackets, userinfo or backslashes need one;
	// the common plain URL is settled by this scan.
	var seen byte
	for i := 0; i < len(raw); i++ {
		seen |= byteClass[raw[i]]
	}
	if seen&classBad != 0 || seen&classUnicode != 0 && hasInvisible(raw) {
		return "the URL holds whitespace or a control character: remove it or encode it"
	}
	parse := seen&classParse != 0
	https := len(raw) >= 8 && strings.EqualFold(raw[:8], "https://")
	if !https && !(len(raw) >= 7 && strings.EqualFold(raw[:7], "http://")) {
		return "not an absolute http(s) URL"
	}
	if parse {
		u, err := url.Parse(raw)
		if err != nil {
			return "malformed URL: " + parseReason(err)
		}
		if u.Host == "" {
			return "the URL names no host"
		}
		return ""
	}
	rest := raw[strings.Index(raw, "//")+2:]
	if rest == "" || rest[0] == '/' || rest[0] == '?' || rest[0] == '#' {
		return "the URL names no host"
	}
	return ""
}

// Byte classes for invalidReason's scan.
const (
	classBad     = 1 << iota // whitespace or a control character
	classParse               // needs a full url.Parse
	classUnicode             // part of a non-ASCII character
)

// byteClass classifies every byte value once, so the scan over each URL is
// a table lookup per byte (it runs on every image cell of huge files).
var byteClass = func() (t [256]byte) {
	for c := 0; c <= ' '; c++ {
		t[c] = classBad
	}
	t[0x7f] = classBad
	for c := 0x80; c < 0x100; c++ {
		t[c] = classUnicode
	}
	for _, c := range "%[]@\\" {
		t[c] = classParse
	}
	return t
}()

// hasInvisible reports whether s holds a non-ASCII space, control or
// format character (a no-break or zero-width space, a byte order mark, a
// bidi mark): pasted from a web page, they look like nothing and break the
// URL.
func hasInvisible(s string) bool {
	for _, r := range s {
		if r >= 0x80 && (unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			return true
		}
	}
	return false
}

// parseReason says why url.Parse refused a URL without quoting the parser's
// text, which can hold part of the URL: for "https://user:pa/ss@host" it
// quotes the password as a bad port.
func parseReason(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "cannot parse"
	}
	msg := ue.Err.Error()
	switch {
	case strings.HasPrefix(msg, "invalid URL escape"):
		return "bad percent escape (write % as %25)"
	case strings.HasPrefix(msg, "invalid port"):
		return "invalid port after host (a password holding '/' must be percent-encoded)"
	case strings.Contains(msg, "invalid character") && strings.Contains(msg, "host name"):
		return "invalid character in host name"
	case strings.Contains(msg, "IPv6"):
		return "malformed IPv6 address"
	}
	return "cannot parse"
}
