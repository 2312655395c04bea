package feed

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Telling legacy code pages apart needs evidence from the bytes, because
// most byte strings are valid in several of them. The scores below weigh
// what text in each encoding looks like:
//
//   - Shift_JIS (Japanese Excel): double-byte characters whose lead byte
//     is 0x82 (hiragana), 0x83 (katakana) or 0x88-0x9F / 0xE0-0xEA (kanji).
//   - GBK / GB18030 (Chinese Excel): double-byte characters in the GB2312
//     area, both bytes from 0xA1, lead 0xB0-0xF7 for hanzi.
//   - Mac Roman vs Windows-1252: accented letters whose case fits the ASCII
//     letters around them, and typographic punctuation (’ “ ” – — … € ™)
//     where text puts it; the other code page reads the same bytes as
//     punctuation in odd places or letters of the wrong case. See
//     scoreSingleByte.
//
// A double-byte "character" whose trail is an ASCII letter in the middle of
// an ASCII word is what a single-byte accent looks like to a double-byte
// decoder (Müller, für), so it counts against the double-byte encodings.

// minCJKScore is the average score per non-ASCII character that Shift_JIS
// or GBK must reach to be chosen.
const minCJKScore = 1

// guessLegacy picks the legacy encoding of sample, which is not UTF-8.
func guessLegacy(sample []byte) string {
	best, bestScore := "", 0.0
	if score, ok := scoreShiftJIS(sample); ok && score >= minCJKScore {
		best, bestScore = EncodingShiftJIS, score
	}
	// A tie goes to GBK: hanzi read as Shift_JIS are mostly runs of
	// half-width katakana without any of the marks that real kana text has.
	if score, ok := scoreGBK(sample); ok && score >= minCJKScore && score >= bestScore {
		best = EncodingGBK
	}
	if best != "" {
		return best
	}
	if scoreSingleByte(sample, charmap.Macintosh) > scoreSingleByte(sample, charmap.Windows1252) {
		return EncodingMacintosh
	}
	return EncodingWindows1252
}

// inRun reports whether the double-byte character at b[i:i+2] follows
// another non-ASCII character (prevWide) or a non-ASCII byte follows it.
// CJK text runs several characters together; a single-byte accent pair (ö
// followed by ß) stands alone.
func inRun(b []byte, i int, prevWide bool) bool {
	return prevWide || i+2 < len(b) && b[i+2] >= 0x80
}

// embedded reports whether the double-byte character at b[i:i+2] follows
// an ASCII letter (prevLetter) and its trail is an ASCII letter.
func embedded(b []byte, i int, prevLetter bool) bool {
	return prevLetter && isASCIILetter(b[i+1])
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// scoreShiftJIS returns the average evidence per non-ASCII character that b
// is Shift_JIS, and false when b is not valid Shift_JIS. A double-byte
// character cut off at the end of b is allowed.
//
// Half-width katakana (single bytes 0xA1-0xDF) are common in Japanese shop
// data (ｻｲｽﾞ, ﾒﾝｽﾞ Tｼｬﾂ): one in a run of non-ASCII characters gains 1, a
// voiced sound mark (ﾞ ﾟ) after a kana that takes it 3, a small kana or
// the long vowel mark (ｯ ｰ) after a kana 2. The same byte standing alone
// between ASCII bytes is what an accented capital of a single-byte code page
// looks like (CAFÉ), and loses 1; so does a mark no kana can carry. A lone
// kanji not inside an ASCII word (靴-1) gains 1.
func scoreShiftJIS(b []byte) (float64, bool) {
	const ascii, kana, wide = 0, 1, 2
	score, chars := 0, 0
	prevLetter, prev, prevKana := false, ascii, byte(0)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			prevLetter, prev, prevKana = isASCIILetter(c), ascii, 0
			continue
		}
		wasLetter, was, kanaBefore := prevLetter, prev, prevKana
		prevLetter, prevKana = false, 0
		switch {
		case 0xA1 <= c && c <= 0xDF:
			chars++
			prev, prevKana = kana, c
			score += scoreKana(c, kanaBefore, was != ascii || i+1 < len(b) && b[i+1] >= 0x80)
			continue
		case c == 0x80 || c == 0xA0 || c >= 0xFD:
			return 0, false
		}
		prev = wide
		chars++
		if i+1 == len(b) {
			break
		}
		t := b[i+1]
		if t < 0x40 || t == 0x7F || t > 0xFC {
			return 0, false
		}
		// A run of double-byte characters; half-width kana next to one
		// do not make a run (GBK hanzi read as Shift_JIS mix the two).
		var after byte = ' '
		if i+2 < len(b) {
			after = b[i+2]
		}
		inRun := was == wide || 0x81 <= after && after <= 0x9F || 0xE0 <= after && after <= 0xFC
		kanji := 0x88 <= c && c <= 0x9F || 0xE0 <= c && c <= 0xEA
		switch {
		case embedded(b, i, wasLetter) && !inRun:
			score--
		case !inRun:
			if kanji && was == ascii && !wasLetter && after < 0x80 && !isASCIILetter(after) {
				score++
			}
		case kanji || c == 0x82 || c == 0x83:
			score += 2
		case c == 0x81:
			score++
		}
		i++
	}
	if chars == 0 {
		return 0, true
	}
	return float64(score) / float64(chars), true
}

// scoreKana scores the half-width katakana byte c, which follows the
// half-width kana before (0 for none) and stands in a run of non-ASCII
// characters or not (run).
func scoreKana(c, before byte, run bool) int {
	switch {
	case !run:
		return -1
	case c == 0xDE: // ﾞ: after ｳ, ｶ-ﾄ, ﾊ-ﾎ
		if before == 0xB3 || 0xB6 <= before && before <= 0xC4 || 0xCA <= before && before <= 0xCE {
			return 3
		}
		return -1
	case c == 0xDF: // ﾟ: after ﾊ-ﾎ
		if 0xCA <= before && before <= 0xCE {
			return 3
		}
		return -1
	case 0xA7 <= c && c <= 0xB0: // ｧ-ｯ, ｰ
		if 0xA6 <= before && before <= 0xDD {
			return 2
		}
	case c <= 0xA5: // ｡｢｣､･: punctuation, no evidence
		return 0
	}
	return 1
}

// scoreGBK returns the average evidence per non-ASCII character that b is
// GBK or GB18030, and false when b is not valid in it. A character cut off
// at the end of b is allowed.
func scoreGBK(b []byte) (float64, bool) {
	score, chars := 0, 0
	prevLetter, prevWide := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			prevLetter, prevWide = isASCIILetter(c), false
			continue
		}
		wasLetter, wasWide := prevLetter, prevWide
		prevLetter, prevWide = false, true
		if c == 0x80 || c == 0xFF {
			return 0, false
		}
		chars++
		if i+1 == len(b) {
			break
		}
		t := b[i+1]
		if '0' <= t && t <= '9' {
			// GB18030 four-byte sequence: no other code page has it.
			if i+3 < len(b) && (b[i+2] < 0x81 || b[i+2] == 0xFF || b[i+3] < '0' || b[i+3] > '9') {
				return 0, false
			}
			score += 2
			i += 3
			continue
		}
		if t < 0x40 || t == 0x7F || t == 0xFF {
			return 0, false
		}
		switch {
		case embedded(b, i, wasLetter):
			score--
		case !inRun(b, i, wasWide):
		case t >= 0xA1 && 0xB0 <= c && c <= 0xF7:
			score += 2
		case t >= 0xA1 && 0xA1 <= c && c <= 0xA9:
			score++
		}
		i++
	}
	if chars == 0 {
		return 0, true
	}
	return float64(score) / float64(chars), true
}

// scoreSingleByte scores how plausible b reads in the single-byte code page
// cm: a non-ASCII letter next to an ASCII letter of the same case gains 2,
// typographic punctuation where text puts it gains 3, any other non-letter
// inside an ASCII word loses 1.
//
// Punctuation weighs more than a letter because Windows-1252's smart quotes,
// dashes, ellipsis, euro and trademark signs (0x80-0x9F) are Mac Roman's
// lower-case accented letters: "Men’s" read as Mac Roman is "Menís", a
// letter of fitting case. Only the punctuation's position tells them apart,
// and an apostrophe inside a word is far more common in product text than
// an í. Genuine Mac Roman accents (é 0x8E, ü 0x9F, ö 0x9A, ß 0xA7) read in
// Windows-1252 as capitals inside lower-case words (Ž, Ÿ), š or §, which
// neither fit nor count as punctuation, so Mac Roman keeps those.
func scoreSingleByte(b []byte, cm *charmap.Charmap) int {
	score := 0
	for i, c := range b {
		if c < utf8.RuneSelf {
			continue
		}
		r := cm.DecodeByte(c)
		prev, next := byte(' '), byte(' ')
		if i > 0 {
			prev = b[i-1]
		}
		if i+1 < len(b) {
			next = b[i+1]
		}
		switch {
		case unicode.IsLetter(r):
			if caseFits(r, prev, next) {
				score += 2
			}
		case punctFits(r, prev, next):
			score += 3
		case isASCIILetter(prev) && isASCIILetter(next):
			score--
		}
	}
	return score
}

// punctFits reports whether r is typographic punctuation standing where
// text puts it, between the bytes prev and next: an apostrophe or closing
// quote after a letter or digit, an opening quote before one, a dash
// between spaces, digits or letters, an ellipsis after a word, a currency
// sign or degree sign by a digit, a trademark sign after a word.
func punctFits(r rune, prev, next byte) bool {
	word := func(c byte) bool { return isASCIILetter(c) || isDigit(c) }
	gap := func(c byte) bool { return isSpace(c) || c == '(' || c == '"' || c == '\'' }
	switch r {
	case '\u2019', '\u201D': // ’ ”
		return word(prev) || (prev == '.' || prev == '!' || prev == '?' || prev == ',') && !word(next)
	case '\u2018', '\u201C': // ‘ “
		return gap(prev) && word(next)
	case '\u2013', '\u2014': // – —
		return isSpace(prev) && isSpace(next) || isDigit(prev) && isDigit(next) || isASCIILetter(prev) && isASCIILetter(next)
	case '\u2026': // …
		return word(prev) && !word(next)
	case '\u20AC', '\u00A3': // € £
		return isDigit(prev) || isDigit(next) || isSpace(prev) && isSpace(next)
	case '\u00B0': // °
		return isDigit(prev)
	case '\u2122', '\u00AE': // ™ ®
		return isASCIILetter(prev) && !word(next)
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// caseFits reports whether letter r has the case its ASCII neighbours ask
// for: lower case next to lower case; upper case next to upper case with no
// lower-case neighbour ("GRÖSSE"), or at the start of a capitalised word
// ("Ärger"). A capital inside a lower-case word ("MŸller") does not fit.
func caseFits(r rune, prev, next byte) bool {
	lower := func(c byte) bool { return 'a' <= c && c <= 'z' }
	upper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	switch {
	case unicode.IsLower(r):
		return lower(prev) || lower(next)
	case unicode.IsUpper(r):
		return (upper(prev) || upper(next)) && !lower(prev) && !lower(next) || (!isASCIILetter(prev) && lower(next))
	}
	return false
}
