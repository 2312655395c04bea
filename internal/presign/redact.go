package presign

import (
	"bytes"
	"strings"
)

// redacted replaces every secret value.
const redacted = "REDACTED"

// maxDepth is the deepest level of percent-encoding told apart: a nested
// URL's '=' is %3D one level down, %253D two levels down, and so on.
// Deeper escapes count as this level.
const maxDepth = 7

// Redact returns rawURL with every secret value replaced by the literal
// REDACTED. Everything else stays byte for byte as written (no
// re-encoding, no reordering, query kept). Works on malformed input too
// (no panic, still redacts what looks like key=value in a query or a
// user:password@ authority).
//
// Redact replaces the value of every secret parameter (see the package
// comment) in the query and in the fragment, up to the next '&' (or '#'
// ending the query); the name and '=' stay. Empty values stay empty. A ';'
// also starts a parameter name (a=1;token=x), but a secret value runs past
// ';' to the next '&', so neither reading leaks. Redact also replaces the
// userinfo of the authority, so https://user:pw@host/ becomes
// https://REDACTED@host/; without a scheme, the text before the first '/',
// '?' or '#' is taken as the authority. When that authority has a colon
// not followed by a port number and an '@' comes later before the query,
// the password is taken to hold a '/' and everything up to the last such
// '@' is redacted.
//
// A URL nested as a parameter value is redacted in place, at its own level
// of encoding: in ?next=https%3A%2F%2Fb.example%2Fk%3FX-Amz-Signature%3Dabc%26a%3D1
// the nested signature "abc" becomes REDACTED and everything else, the
// escapes included, stays as written. The same holds for a doubly encoded
// URL (%253D ...), for a nested URL written unencoded, and for the
// userinfo of a nested URL.
//
// A URL without '?', '#' or '@' is returned as is without allocating.
// Redact is idempotent.
func Redact(rawURL string) string {
	if !mayHoldSecret(rawURL) {
		return rawURL
	}
	r := redactor{s: rawURL}
	r.scan(r.userinfo())
	return redactPathParams(r.result())
}

// redactPathParams redacts the values of secret path parameters, the
// ";jsessionid=..." kind that Java servers put into the path, up to the
// next '/', ';', '?' or '#'.
func redactPathParams(s string) string {
	end := len(s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		end = i
	}
	var b strings.Builder
	last := 0
	for i := strings.IndexByte(s[:end], ';'); i >= 0 && i < end; {
		nameEnd := i + 1
		for nameEnd < end && s[nameEnd] != '=' && s[nameEnd] != ';' && s[nameEnd] != '/' {
			nameEnd++
		}
		next := nameEnd
		if nameEnd < end && s[nameEnd] == '=' && isSecretName(s[i+1:nameEnd], 1) {
			valEnd := nameEnd + 1
			for valEnd < end && s[valEnd] != '/' && s[valEnd] != ';' {
				valEnd++
			}
			if valEnd > nameEnd+1 && s[nameEnd+1:valEnd] != redacted {
				b.WriteString(s[last : nameEnd+1])
				b.WriteString(redacted)
				last = valEnd
			}
			next = valEnd
		}
		j := strings.IndexByte(s[next:end], ';')
		if j < 0 {
			break
		}
		i = next + j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// RedactText redacts every http(s) URL found inside free text (error
// messages from net/http quote URLs, e.g. `Get "https://...": dial tcp
// ...`).
//
// A double-quoted string (Go's %q) is redacted whole when it starts with
// http:// or https://, or when it holds no whitespace: net/http quotes the
// URL as written, a relative Location from a redirect included
// (`Get "/img.jpg?X-Amz-Signature=...": ...`). Elsewhere a URL starts at
// http:// or https:// (any case); after a single quote, backtick or '<'
// it runs to the matching closing character, otherwise to the first
// whitespace, control character, double quote, backtick or angle bracket.
func RedactText(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	t := textRedactor{s: s}
	for i := 0; i < len(s); {
		switch {
		case s[i] == '"':
			if end, ok := quotedRef(s, i+1); ok {
				t.redact(i+1, end)
				i = end + 1
				continue
			}
		case strings.HasPrefix(s[i:], "://"):
			if start := schemeStart(s, i); start >= t.last {
				end := urlEnd(s, start, i+3)
				t.redact(start, end)
				i = end
				continue
			}
		}
		i++
	}
	return t.result()
}

// textRedactor builds RedactText's result lazily.
type textRedactor struct {
	s    string
	b    strings.Builder
	last int
}

// redact replaces s[start:end] with its redacted form.
func (t *textRedactor) redact(start, end int) {
	u := t.s[start:end]
	red := Redact(u)
	if red == u {
		return
	}
	t.b.WriteString(t.s[t.last:start])
	t.b.WriteString(red)
	t.last = end
}

// result returns the redacted text.
func (t *textRedactor) result() string {
	if t.last == 0 {
		return t.s
	}
	t.b.WriteString(t.s[t.last:])
	return t.b.String()
}

// quotedRef finds the closing quote of a double-quoted string whose content
// starts at i (backslash escapes skipped, no line break) and reports
// whether the content is to be redacted as a URL.
func quotedRef(s string, i int) (end int, ok bool) {
	end = -1
	for k := i; k < len(s) && s[k] != '\n'; k++ {
		if s[k] == '\\' {
			k++
		} else if s[k] == '"' {
			end = k
			break
		}
	}
	if end < 0 {
		return 0, false
	}
	content := s[i:end]
	if hasPrefixFold(content, "http://") || hasPrefixFold(content, "https://") {
		return end, true
	}
	for k := 0; k < len(content); k++ {
		if c := content[k]; c <= ' ' || c == 0x7f {
			return 0, false
		}
	}
	return end, content != ""
}

// schemeStart returns where the "http" or "https" (any case) that ends at
// k starts, or -1.
func schemeStart(s string, k int) int {
	switch {
	case k >= 5 && strings.EqualFold(s[k-5:k], "https"):
		return k - 5
	case k >= 4 && strings.EqualFold(s[k-4:k], "http"):
		return k - 4
	}
	return -1
}

// urlEnd returns where the URL that starts at start (its authority at from)
// ends in free text.
func urlEnd(s string, start, from int) int {
	if start > 0 {
		closing := byte(0)
		switch s[start-1] {
		case '\'', '`':
			closing = s[start-1]
		case '<':
			closing = '>'
		}
		for i := from; closing != 0 && i < len(s) && s[i] != '\n'; i++ {
			if s[i] == closing {
				return i
			}
		}
	}
	for i := from; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f, c == '"', c == '<', c == '>', c == '`':
			return i
		}
	}
	return len(s)
}

// mayHoldSecret reports whether s holds '?', '#' or '@', without which no
// secret can be found.
func mayHoldSecret(s string) bool {
	return strings.IndexByte(s, '?') >= 0 || strings.IndexByte(s, '#') >= 0 ||
		strings.IndexByte(s, '@') >= 0 || strings.IndexByte(s, ';') >= 0
}

// redactor finds the secrets of one URL and builds the redacted copy
// lazily: a URL with nothing to redact costs no allocation.
type redactor struct {
	s string
	b strings.Builder
	// last is the end of the input already copied to b.
	last int

	// inQuery and inFragment say which part the scan is in.
	inQuery, inFragment bool
	// short is where the current parameter name starts when every
	// delimiter (&;?#=, at any encoding level) ends a name.
	short int
	// long[d] is where the name of a '=' of encoding level d starts when
	// only &, = and # of level d or lower (and '?' of a nested URL) end a
	// name. At level 0 that is exactly the name a query parser sees.
	long [maxDepth + 1]int
}

// replace redacts s[start:end]. Calls come in increasing order.
func (r *redactor) replace(start, end int) {
	if start >= end || r.s[start:end] == redacted {
		return
	}
	if r.b.Cap() == 0 {
		r.b.Grow(len(r.s) + 2*len(redacted))
	}
	r.b.WriteString(r.s[r.last:start])
	r.b.WriteString(redacted)
	r.last = end
}

// result returns the redacted URL.
func (r *redactor) result() string {
	if r.last == 0 {
		return r.s
	}
	r.b.WriteString(r.s[r.last:])
	return r.b.String()
}

// userinfo redacts the userinfo of the URL's authority and returns where
// the authority ends.
func (r *redactor) userinfo() int {
	s := r.s
	a0 := authorityStart(s)
	a1 := a0 + indexEnd(s[a0:], true)
	if at := strings.LastIndexByte(s[a0:a1], '@'); at >= 0 {
		r.replace(a0, a0+at)
		return a1
	}

	// A password holding a '/' (user:pa/ss@host) ends the authority
	// early for a parser; a colon not followed by a port gives it away.
	// The last '@' before the query is taken, as a parser would once the
	// '/' is gone, so that a second pass finds nothing more.
	c := strings.IndexByte(s[a0:a1], ':')
	if c < 0 || allDigits(s[a0+c+1:a1]) {
		return a1
	}
	end := a1 + indexEnd(s[a1:], false)
	at := strings.LastIndexByte(s[a1:end], '@')
	if at < 0 {
		return a1
	}
	at += a1
	r.replace(a0, at)
	return at + indexEnd(s[at:], true)
}

// authorityStart returns where the authority of s starts: after
// "scheme://", after a leading "//", else at 0 (no scheme).
func authorityStart(s string) int {
	if i := strings.Index(s, "://"); i >= 0 && indexEnd(s[:i], true) == i {
		return i + 3
	}
	if strings.HasPrefix(s, "//") {
		return 2
	}
	return 0
}

// indexEnd returns the index of the first '/', '?' or '#' of s, or, with
// slash false, of the first '?' or '#'; len(s) when there is none. A
// plain loop: strings.IndexAny builds a set on every call, which shows in
// profiles of the hot path.
func indexEnd(s string, slash bool) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '?' || c == '#' || c == '/' && slash {
			return i
		}
	}
	return len(s)
}

// allDigits reports whether s is made of ASCII digits only (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// special marks the bytes the scan must look at: delimiters and '%'.
var special = [256]bool{'%': true, '=': true, '&': true, '#': true, '?': true, ';': true, '/': true, ':': true}

// scan walks the URL from i, in the path for nested "scheme://user@", in
// the query and fragment also for secret parameters.
func (r *redactor) scan(i int) {
	s := r.s

	// Skip a path that cannot hold a nested URL: no ':', not even
	// encoded.
	q := i + indexEnd(s[i:], false)
	if p := s[i:q]; strings.IndexByte(p, ':') < 0 && strings.IndexByte(p, '%') < 0 {
		i = q
	}
	// p1, p2 are the last two characters seen and d1, d2 their levels, to
	// spot a nested "://".
	var p1, p2 byte
	var d1, d2 int
	for i < len(s) {
		if !special[s[i]] {
			// Any ordinary byte breaks a "://" in the making.
			for i++; i < len(s) && !special[s[i]]; i++ {
			}
			p1 = 0
			continue
		}
		c, d, w := unit(s, i)
		j := i + w
		switch c {
		case '=':
			if (r.inQuery || r.inFragment) && r.secretName(i, d) {
				end := valueEnd(s, j, d, r.inFragment)
				r.replace(j, end)
				i, p1, p2 = end, 0, 0
				continue
			}
			r.stop(j, d, true)
		case '&':
			r.stop(j, d, true)
		case '#':
			switch {
			case d == 0 && !r.inFragment:
				r.inQuery, r.inFragment = false, true
				r.stopAll(j)
			default:
				// A stray literal '#' inside the fragment ends no value.
				r.stop(j, d, d > 0)
			}
		case '?':
			if d == 0 && !r.inQuery && !r.inFragment {
				r.inQuery = true
				r.stopAll(j)
			} else {
				r.stop(j, d, d > 0)
			}
		case ';':
			r.stop(j, d, false)
		case '/':
			if p1 == '/' && d1 == d && p2 == ':' && d2 == d {
				if at := nestedUserinfo(s, j, d); at > j {
					r.replace(j, at)
					i, p1, p2 = at, 0, 0
					continue
				}
			}
		}
		p2, d2, p1, d1 = p1, d1, c, d
		i = j
	}
}

// stop records a name delimiter of level d that ends at j.
func (r *redactor) stop(j, d int, long bool) {
	r.short = j
	if long {
		for k := d; k <= maxDepth; k++ {
			r.long[k] = j
		}
	}
}

// stopAll records a delimiter that ends names of every level (the start of
// the query or of the fragment).
func (r *redactor) stopAll(j int) {
	r.stop(j, 0, true)
}

// secretName reports whether the parameter whose '=' (of level d) is at eq
// has a secret name, read either way (short or long, see redactor).
func (r *redactor) secretName(eq, d int) bool {
	if isSecretName(r.s[r.short:eq], d+1) {
		return true
	}
	if l := r.long[d]; l < r.short {
		return isSecretName(r.s[l:eq], d+1)
	}
	return false
}

// valueEnd returns where the value of level d that starts at j ends: at the
// next '&' or '#' of level d or lower. A literal '#' ends no value inside
// the fragment.
func valueEnd(s string, j, d int, inFragment bool) int {
	if d == 0 {
		end := len(s)
		if k := strings.IndexByte(s[j:], '&'); k >= 0 {
			end = j + k
		}
		if !inFragment {
			if k := strings.IndexByte(s[j:end], '#'); k >= 0 {
				end = j + k
			}
		}
		return end
	}
	for k := j; k < len(s); {
		c, e, w := unit(s, k)
		if e <= d && (c == '&' || c == '#' && (e > 0 || !inFragment)) {
			return k
		}
		k += w
	}
	return len(s)
}

// nestedUserinfo looks for the userinfo of a nested URL whose authority
// (of level d) starts at j, and returns the index of its '@', or -1.
func nestedUserinfo(s string, j, d int) int {
	at := -1
	for k := j; k < len(s); {
		c, e, w := unit(s, k)
		if e <= d {
			switch c {
			case '/', '?', '#', '&':
				return at
			case '@':
				at = k
			}
		}
		k += w
	}
	return at
}

// unit decodes the character at s[i]: a literal byte (level 0) or a
// percent-encoded byte of any level (%3D is level 1, %253D level 2, ...).
// It returns the byte, its level and the width of its encoding. A '%' not
// followed by two hex digits is a literal '%'.
func unit(s string, i int) (c byte, level, width int) {
	c = s[i]
	if c != '%' {
		return c, 0, 1
	}
	j, d := i+1, 1
	for j+3 < len(s) && s[j] == '2' && s[j+1] == '5' && isHex(s[j+2]) && isHex(s[j+3]) {
		j += 2
		d++
	}
	if j+1 >= len(s) || !isHex(s[j]) || !isHex(s[j+1]) {
		return '%', 0, 1
	}
	if d > maxDepth {
		d = maxDepth
	}
	return unhex(s[j])<<4 | unhex(s[j+1]), d, j + 2 - i
}

// isSecretName reports whether raw, percent-decoded times times, names a
// secret parameter.
func isSecretName(raw string, times int) bool {
	if raw == "" {
		return false
	}
	var buf [128]byte
	return secretName(lowerDecode(buf[:0], raw, times))
}

// secretName reports whether a lowercased, decoded parameter name is
// secret: one of the exact names below, or any name holding token, secret,
// password, signature, session, credential, apikey, api_key, api-key or
// accesskey.
func secretName(name []byte) bool {
	// The longest exact name has 14 bytes; the guard also keeps the
	// conversion below on the stack.
	exact := name
	if len(exact) > 0 && (exact[0] <= ' ' || exact[len(exact)-1] <= ' ') {
		exact = bytes.TrimSpace(exact)
	}
	if len(exact) <= 14 {
		switch string(exact) {
		case "sig", "key", "auth", "policy", "rlkey", "key-pair-id", "awsaccesskeyid",
			"googleaccessid", "authorization", "passwd", "pwd", "sid":
			return true
		}
	}

	// One pass, dispatching on the first letter of each keyword.
	for i := 0; i+5 <= len(name); i++ {
		rest := name[i:]
		switch rest[0] {
		case 't':
			if hasPrefix(rest, "token") {
				return true
			}
		case 's':
			if hasPrefix(rest, "secret") || hasPrefix(rest, "signature") || hasPrefix(rest, "session") {
				return true
			}
		case 'p':
			if hasPrefix(rest, "password") {
				return true
			}
		case 'c':
			if hasPrefix(rest, "credential") {
				return true
			}
		case 'a':
			if hasPrefix(rest, "apikey") || hasPrefix(rest, "api_key") ||
				hasPrefix(rest, "api-key") || hasPrefix(rest, "accesskey") {
				return true
			}
		}
	}
	return false
}

// hasPrefix is bytes.HasPrefix with a string prefix, without allocating.
func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}
