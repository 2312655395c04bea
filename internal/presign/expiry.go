package presign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
)

// maxSeconds bounds the integers read from Expires parameters (about the
// year 33658 as an epoch), so that no sum overflows.
const maxSeconds = 1e12

// dateplus returns a V4 signature's expiry: date (20060102T150405Z, as
// X-Amz-Date and X-Goog-Date) plus expires seconds. It returns the zero
// time when either cannot be read.
func dateplus(date, expires string) time.Time {
	if len(date) > 48 || len(expires) > 48 {
		return time.Time{}
	}
	var db, eb [48]byte
	t, ok := parseCompactDate(appendDecoded(db[:0], date))
	if !ok {
		return time.Time{}
	}
	n, ok := parseSeconds(appendDecoded(eb[:0], expires))
	if !ok {
		return time.Time{}
	}
	return time.Unix(t.Unix()+n, 0).UTC()
}

// epoch returns the time of a Unix-seconds parameter value, or the zero
// time when it is not a plain non-negative integer.
func epoch(v string) time.Time {
	if len(v) > 48 {
		return time.Time{}
	}
	var buf [48]byte
	n, ok := parseSeconds(appendDecoded(buf[:0], v))
	if !ok {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// parseSeconds reads a non-negative decimal integer of at most maxSeconds.
func parseSeconds(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 13 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= maxSeconds
}

// parseCompactDate reads the ISO 8601 basic form AWS and Google sign with:
// 20060102T150405Z.
func parseCompactDate(b []byte) (time.Time, bool) {
	if len(b) != 16 || b[8] != 'T' || b[15] != 'Z' {
		return time.Time{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[4:6])
	d, ok3 := digits(b[6:8])
	h, ok4 := digits(b[9:11])
	mi, ok5 := digits(b[11:13])
	s, ok6 := digits(b[13:15])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	return mkdate(y, mo, d, h, mi, s, 0)
}

// isoTime reads an Azure SAS se value, percent-decoded first: a UTC date
// (2026-12-31, taken as midnight UTC), or a date and time with minutes,
// optional seconds and fraction, and a zone (Z, +hh:mm, -hh:mm or none,
// read as UTC): 2026-12-31T10:00Z, 2026-12-31T10:00:00.1234567Z. It
// returns the zero time for anything else.
func isoTime(v string) time.Time {
	if len(v) > 96 {
		return time.Time{}
	}
	var buf [96]byte
	t, ok := parseISO(appendDecoded(buf[:0], v))
	if !ok {
		return time.Time{}
	}
	return t
}

// parseISO implements isoTime on decoded bytes.
func parseISO(b []byte) (time.Time, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !(ok1 && ok2 && ok3) {
		return time.Time{}, false
	}
	if len(b) == 10 {
		return mkdate(y, mo, d, 0, 0, 0, 0)
	}

	// The time: T hh:mm, then :ss and .fraction when present.
	if c := b[10]; c != 'T' && c != 't' && c != ' ' || len(b) < 16 || b[13] != ':' {
		return time.Time{}, false
	}
	h, ok1 := digits(b[11:13])
	mi, ok2 := digits(b[14:16])
	if !(ok1 && ok2) {
		return time.Time{}, false
	}
	rest := b[16:]
	s, nsec := 0, 0
	if len(rest) >= 3 && rest[0] == ':' {
		var ok bool
		if s, ok = digits(rest[1:3]); !ok {
			return time.Time{}, false
		}
		rest = rest[3:]
		if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
			nsec, rest = fraction(rest[1:])
		}
	}
	t, ok := mkdate(y, mo, d, h, mi, s, nsec)
	if !ok {
		return time.Time{}, false
	}

	// The zone.
	switch {
	case len(rest) == 0:
		return t, true
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		return t, true
	case rest[0] == '+' || rest[0] == '-':
		off, ok := zoneOffset(rest[1:])
		if !ok {
			return time.Time{}, false
		}
		if rest[0] == '+' {
			off = -off
		}
		return t.Add(off), true
	}
	return time.Time{}, false
}

// fraction reads the digits of a fraction of a second (any number, only
// nanoseconds kept) and returns the rest of b.
func fraction(b []byte) (int, []byte) {
	nsec, scale, i := 0, int(time.Second), 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		if scale > 1 {
			scale /= 10
			nsec += int(b[i]-'0') * scale
		}
	}
	return nsec, b[i:]
}

// zoneOffset reads hh:mm or hhmm.
func zoneOffset(b []byte) (time.Duration, bool) {
	if len(b) == 5 && b[2] == ':' {
		b = []byte{b[0], b[1], b[3], b[4]}
	}
	if len(b) != 4 {
		return 0, false
	}
	h, ok1 := digits(b[0:2])
	m, ok2 := digits(b[2:4])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// digits reads an unsigned decimal number made only of digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// mkdate builds a UTC time, refusing fields out of range (time.Date would
// quietly normalise February 30 to March 2).
func mkdate(y, mo, d, h, mi, s, nsec int) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, nsec, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// cloudFrontPolicy is the part of a CloudFront custom policy that holds
// the expiry.
type cloudFrontPolicy struct {
	Statement []struct {
		Condition struct {
			DateLessThan struct {
				EpochTime json.Number `json:"AWS:EpochTime"`
			}
		}
	}
}

// policyExpiry returns the DateLessThan of a CloudFront Policy parameter
// (the earliest, should there be several statements), or the zero time.
// CloudFront writes the policy JSON in base64 with '-' for '+', '_' for '='
// and '~' for '/', so that it needs no escaping in a query.
func policyExpiry(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	b := appendDecoded(nil, v)
	for i, c := range b {
		switch c {
		case '-':
			b[i] = '+'
		case '_':
			b[i] = '='
		case '~':
			b[i] = '/'
		}
	}
	b = bytes.TrimRight(b, "=")
	js := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(js, b)
	if err != nil {
		return time.Time{}
	}

	var pol cloudFrontPolicy
	if err := json.Unmarshal(js[:n], &pol); err != nil {
		return time.Time{}
	}
	var earliest int64
	for _, st := range pol.Statement {
		sec, ok := epochNumber(st.Condition.DateLessThan.EpochTime)
		if ok && (earliest == 0 || sec < earliest) {
			earliest = sec
		}
	}
	if earliest == 0 {
		return time.Time{}
	}
	return time.Unix(earliest, 0).UTC()
}

// epochNumber reads a positive epoch-seconds JSON number.
func epochNumber(n json.Number) (int64, bool) {
	if n == "" {
		return 0, false
	}
	sec, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(n), 64)
		if ferr != nil || !(f > 0 && f <= maxSeconds) {
			return 0, false
		}
		sec = int64(f)
	}
	return sec, sec > 0 && sec <= maxSeconds
}
