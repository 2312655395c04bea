package presign

import (
	"strings"
	"testing"
)

// FuzzRedact checks Redact's promises on any input: it never panics, it is
// idempotent, it changes nothing but the spans it replaces with REDACTED,
// and no secret parameter (as a plain query parser splits the query and
// the fragment on '&') and no userinfo keeps a value. The same runs through
// RedactText.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		corpusFptSigV4, corpusFptCloudFront, corpusFptSigV2, corpusOfferSigV4,
		"https://user:pw@h.example/a.jpg?token=a&x=1#access_token=b",
		"https://img.example.com/r?next=https%3A%2F%2Fb%2Fk%3FX-Amz-Signature%3Dabc%26w%3D1&h=2",
		"https://img.example.com/r?u=https%253A%252F%252Fb%252Fk%253Fsig%253Dabc%2526sv%253D1",
		"https://img.example.com/r?next=https://u:p@b/k?sig=abc&X-Amz-Date=1",
		"https://user:pa/ss@h.example/a.jpg",
		"h.example/a b.jpg?token=ab%zz;sig=c%&k=%4",
		"?a=1;token=x&b=%3D#/cb?sig=y#z",
		`Get "/final.jpg?X-Amz-Signature=abc": redirect refused`,
		"https://acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&se=2026-12-31T10%3A00Z&sig=abc",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := Redact(raw)
		if again := Redact(got); again != got {
			t.Fatalf("Redact(%q) = %q; Redact of that = %q; want idempotent", raw, got, again)
		}
		if !strings.ContainsAny(raw, "?#@;") && got != raw {
			t.Fatalf("Redact(%q) = %q; want it unchanged", raw, got)
		}
		if !onlyRedacted(raw, got) {
			t.Fatalf("Redact(%q) = %q; changes more than the redacted spans", raw, got)
		}
		for _, p := range refPairs(got) {
			if refSecret(p.name) && p.value != "" && p.value != redacted {
				t.Fatalf("Redact(%q) = %q; parameter %q keeps value %q", raw, got, p.name, p.value)
			}
		}
		if ui, ok := refUserinfo(got); ok && ui != "" && ui != redacted {
			t.Fatalf("Redact(%q) = %q; userinfo %q kept", raw, got, ui)
		}

		text := RedactText(raw)
		if again := RedactText(text); again != text {
			t.Fatalf("RedactText(%q) = %q; RedactText of that = %q; want idempotent", raw, text, again)
		}
		if !onlyRedacted(raw, text) {
			t.Fatalf("RedactText(%q) = %q; changes more than the redacted spans", raw, text)
		}
	})
}

// onlyRedacted reports whether out is in with some spans replaced by
// REDACTED and every other byte kept: a glob match of in against out with
// each REDACTED read as '*'.
func onlyRedacted(in, out string) bool {
	parts := strings.Split(out, redacted)
	first, last := parts[0], parts[len(parts)-1]
	if len(parts) == 1 {
		return in == out
	}
	if !strings.HasPrefix(in, first) || !strings.HasSuffix(in[len(first):], last) {
		return false
	}
	mid := in[len(first) : len(in)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(mid, p)
		if i < 0 {
			return false
		}
		mid = mid[i+len(p):]
	}
	return true
}

// refPair is a parameter as a plain query parser sees it.
type refPair struct{ name, value string }

// refPairs splits the query (between the first '?' and the first '#') and
// the fragment on '&' and each pair at its first '='.
func refPairs(u string) []refPair {
	var parts []string
	frag, hasFrag := "", false
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag, hasFrag = u[:i], u[i+1:], true
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		parts = append(parts, strings.Split(u[i+1:], "&")...)
	}
	if hasFrag {
		parts = append(parts, strings.Split(frag, "&")...)
	}
	pairs := make([]refPair, 0, len(parts))
	for _, p := range parts {
		name, value, _ := strings.Cut(p, "=")
		pairs = append(pairs, refPair{name, value})
	}
	return pairs
}

// refSecret applies the package's list of secret names to a raw name,
// decoded once, with a decoder written separately from the package's.
func refSecret(name string) bool {
	var b []byte
	for i := 0; i < len(name); i++ {
		if name[i] == '%' && i+2 < len(name) {
			if v, ok := hexByte(name[i+1], name[i+2]); ok {
				b = append(b, v)
				i += 2
				continue
			}
		}
		b = append(b, name[i])
	}
	return secretName([]byte(strings.ToLower(string(b))))
}

// hexByte decodes two hex digits.
func hexByte(a, b byte) (byte, bool) {
	hi, ok1 := hexValue(a)
	lo, ok2 := hexValue(b)
	return hi<<4 | lo, ok1 && ok2
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// refUserinfo returns the userinfo of u's authority (after "scheme://" with
// no '/', '?' or '#' before it, or after a leading "//"), if it has one.
func refUserinfo(u string) (string, bool) {
	start := -1
	if i := strings.Index(u, "://"); i >= 0 && !strings.ContainsAny(u[:i], "/?#") {
		start = i + 3
	} else if strings.HasPrefix(u, "//") {
		start = 2
	}
	if start < 0 {
		return "", false
	}
	authority := u[start:]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	i := strings.LastIndexByte(authority, '@')
	if i < 0 {
		return "", false
	}
	return authority[:i], true
}
