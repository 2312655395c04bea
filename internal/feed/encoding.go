package feed

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/flatguard/flatguard/internal/report"
)

// CheckEncoding returns an error when name is not an encoding Options.Encoding
// accepts: CONTRACT.md's encoding values, case-insensitive, plus the aliases
// utf8, cp1252, sjis, gb18030, gb2312 and mac-roman.
func CheckEncoding(name string) error {
	_, _, err := lookupEncoding(name)
	return err
}

// lookupEncoding maps an encoding name to its CONTRACT.md value and its
// decoder; the decoder is nil for UTF-8 and for UTF-16, which is decoded as a
// stream before splitting.
func lookupEncoding(name string) (string, *encoding.Decoder, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "utf-8", "utf8":
		return EncodingUTF8, nil, nil
	case "utf-8-bom", "utf8-bom":
		return EncodingUTF8BOM, nil, nil
	case "utf-16le", "utf16le":
		return EncodingUTF16LE, nil, nil
	case "utf-16be", "utf16be":
		return EncodingUTF16BE, nil, nil
	case "windows-1252", "cp1252":
		return EncodingWindows1252, charmap.Windows1252.NewDecoder(), nil
	case "shift_jis", "shift-jis", "sjis":
		return EncodingShiftJIS, japanese.ShiftJIS.NewDecoder(), nil
	case "gbk", "gb18030", "gb2312":
		// GB18030 is a superset of GBK and GB2312, so one decoder reads all.
		return EncodingGBK, simplifiedchinese.GB18030.NewDecoder(), nil
	case "macintosh", "mac-roman", "macroman":
		return EncodingMacintosh, charmap.Macintosh.NewDecoder(), nil
	}
	return "", nil, fmt.Errorf("feed: unknown encoding %q", name)
}

// textDecoder turns raw cell bytes into strings. Until enc is set the file
// has shown only ASCII and the encoding is still open.
type textDecoder struct {
	enc     string
	dec     *encoding.Decoder
	scratch []byte
	// forced is set when the caller named the encoding: then every record
	// must be valid in it.
	forced bool
}

// check returns a malformed_file error when the caller named the encoding
// and rec, record row, holds bytes that are invalid in it.
func (d *textDecoder) check(rec []byte, row int) error {
	if !d.forced || isASCII(rec) {
		return nil
	}
	var ok bool
	switch d.enc {
	case EncodingUTF8, EncodingUTF8BOM:
		ok = utf8.Valid(rec)
	case EncodingShiftJIS:
		_, ok = scoreShiftJIS(rec)
	case EncodingGBK:
		_, ok = scoreGBK(rec)
	default:
		// Single-byte code pages give every byte a meaning, and UTF-16 is
		// decoded before splitting.
		ok = true
	}
	if !ok {
		return fileError(report.ErrMalformedFile, row, "bytes that are not valid %s: check the encoding setting", d.enc)
	}
	return nil
}

// setEncoding fixes the encoding by name.
func (d *textDecoder) setEncoding(name string) error {
	enc, dec, err := lookupEncoding(name)
	if err != nil {
		return err
	}
	d.enc, d.dec = enc, dec
	return nil
}

// encoding returns the CONTRACT.md value of the encoding: UTF-8 while only
// ASCII was seen.
func (d *textDecoder) encoding() string {
	if d.enc == "" {
		return EncodingUTF8
	}
	return d.enc
}

// decode returns b as a string. ASCII needs no decoding in any encoding the
// splitter sees.
func (d *textDecoder) decode(b []byte) string {
	if d.dec == nil || isASCII(b) {
		return string(b)
	}
	out, _, err := transform.Append(d.dec, d.scratch[:0], b)
	if err != nil {
		return string(b)
	}
	d.scratch = out
	return string(out)
}

// detect settles the encoding at the first record holding a non-ASCII byte.
// sample is that record plus what is buffered after it; eof says whether
// sample runs to the end of the file. CONTRACT.md's order: valid UTF-8 wins,
// then the legacy code pages that the bytes give evidence for (Shift_JIS,
// GBK, Mac Roman), Windows-1252 last.
func (d *textDecoder) detect(rec, sample []byte, eof bool) {
	if isASCII(rec) {
		return
	}
	if validUTF8(sample, eof) {
		d.enc = EncodingUTF8
		return
	}
	if !eof {
		// A multi-byte sequence may be cut at the end of the buffer.
		sample = sample[:max(len(rec), len(sample)-4)]
	}
	d.enc = guessLegacy(sample)
	_, d.dec, _ = lookupEncoding(d.enc)
}

// validUTF8 reports whether b is valid UTF-8; unless eof, a truncated
// sequence at its end is allowed.
func validUTF8(b []byte, eof bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if eof {
		return false
	}
	for k := 1; k <= utf8.UTFMax-1 && k <= len(b); k++ {
		if utf8.Valid(b[:len(b)-k]) && !utf8.FullRune(b[len(b)-k:]) && utf8.RuneStart(b[len(b)-k]) {
			return true
		}
	}
	return false
}

// appendDecoded appends b, decoded, to dst.
func (d *textDecoder) appendDecoded(dst, b []byte) []byte {
	if d.dec == nil || isASCII(b) {
		return append(dst, b...)
	}
	out, _, err := transform.Append(d.dec, dst, b)
	if err != nil {
		return append(dst, b...)
	}
	return out
}

// isASCII reports whether b holds only ASCII bytes, eight at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
