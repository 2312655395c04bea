package presign

import "strings"

// Indexes of the query parameters Detect looks at.
const (
	pAmzAlgorithm = iota
	pAmzCredential
	pAmzDate
	pAmzExpires
	pAmzSignature
	pAmzToken
	pGoogAlgorithm
	pGoogCredential
	pGoogDate
	pGoogExpires
	pGoogSignature
	pAWSAccessKeyID
	pGoogleAccessID
	pSignature
	pExpires
	pKeyPairID
	pPolicy
	pSig
	pSe
	pSv
	nParams
)

// params holds the raw (still percent-encoded) values of the parameters
// Detect cares about, as substrings of the URL: collecting them allocates
// nothing. The first occurrence of a name wins.
type params struct {
	v   [nParams]string
	has uint32
}

// bit is the presence bit of parameter index i.
func bit(i int) uint32 { return 1 << uint(i) }

// all reports whether both parameters are present.
func (p *params) all(a, b int) bool {
	m := bit(a) | bit(b)
	return p.has&m == m
}

// parse collects the known parameters of query (the text between '?' and
// '#', split on '&').
func (p *params) parse(query string) {
	for query != "" {
		pair := query
		if i := strings.IndexByte(query, '&'); i >= 0 {
			pair, query = query[:i], query[i+1:]
		} else {
			query = ""
		}
		name, value := pair, ""
		if i := strings.IndexByte(pair, '='); i >= 0 {
			name, value = pair[:i], pair[i+1:]
		}
		if i := paramIndex(name); i >= 0 && p.has&bit(i) == 0 {
			p.has |= bit(i)
			p.v[i] = value
		}
	}
}

// paramIndex returns the index of a known parameter name, compared after
// percent-decoding and lowercasing, or -1.
func paramIndex(name string) int {
	// No name Detect knows is longer than 20 bytes; an encoded one can be
	// three times that.
	if len(name) < 2 || len(name) > 64 {
		return -1
	}
	var buf [64]byte
	key := lowerDecode(buf[:0], name, 1)
	if len(key) > len("x-amz-security-token") {
		return -1
	}
	switch string(key) {
	case "x-amz-algorithm":
		return pAmzAlgorithm
	case "x-amz-credential":
		return pAmzCredential
	case "x-amz-date":
		return pAmzDate
	case "x-amz-expires":
		return pAmzExpires
	case "x-amz-signature":
		return pAmzSignature
	case "x-amz-security-token":
		return pAmzToken
	case "x-goog-algorithm":
		return pGoogAlgorithm
	case "x-goog-credential":
		return pGoogCredential
	case "x-goog-date":
		return pGoogDate
	case "x-goog-expires":
		return pGoogExpires
	case "x-goog-signature":
		return pGoogSignature
	case "awsaccesskeyid":
		return pAWSAccessKeyID
	case "googleaccessid":
		return pGoogleAccessID
	case "signature":
		return pSignature
	case "expires":
		return pExpires
	case "key-pair-id":
		return pKeyPairID
	case "policy":
		return pPolicy
	case "sig":
		return pSig
	case "se":
		return pSe
	case "sv":
		return pSv
	}
	return -1
}

// lowerDecode appends s to dst percent-decoded times times and lowercased
// (ASCII). An escape that is not %XX stays as written. With dst backed by a
// large enough array it does not allocate.
func lowerDecode(dst []byte, s string, times int) []byte {
	start := len(dst)
	dst = appendDecoded(dst, s)
	for ; times > 1; times-- {
		dst = dst[:start+decodeInPlace(dst[start:])]
	}
	for i := start; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// appendDecoded appends s to dst percent-decoded once. An escape that is
// not %XX stays as written, and '+' stays '+'.
func appendDecoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

// decodeInPlace percent-decodes b once in place and returns the new length.
func decodeInPlace(b []byte) int {
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			c = unhex(b[i+1])<<4 | unhex(b[i+2])
			i += 2
		}
		b[n] = c
		n++
	}
	return n
}

// isHex reports whether c is a hex digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex returns the value of the hex digit c.
func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// hostOf returns the host of a URL prefix (scheme and authority, possibly
// followed by a path), or "" when prefix has no "//" authority.
func hostOf(prefix string) string {
	i := strings.Index(prefix, "//")
	if i < 0 {
		return ""
	}
	authority := prefix[i+2:]
	if j := strings.IndexAny(authority, "/?#"); j >= 0 {
		authority = authority[:j]
	}
	return hostPart(authority)
}

// hostPart returns the host of an authority: no userinfo, no port, no
// trailing dot.
func hostPart(authority string) string {
	host := authority
	if j := strings.LastIndexByte(host, '@'); j >= 0 {
		host = host[j+1:]
	}
	if j := strings.LastIndexByte(host, ':'); j >= 0 && !strings.Contains(host[j:], "]") {
		host = host[:j]
	}
	return strings.TrimSuffix(host, ".")
}

// hasSuffixFold is strings.HasSuffix with ASCII case folding.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
