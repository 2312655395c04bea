package feed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/flatguard/flatguard/internal/report"
)

// initialBuf is the text buffer's first size; it doubles up to MaxRowBytes
// when a row does not fit.
const initialBuf = 256 << 10

// maxColumns is the most columns a row may have: Excel's own limit (XFD).
// A longer row is malformed_file, so a file of millions of columns costs
// bounded memory.
const maxColumns = 16384

// readText reads a delimited text file. head is the start of the file.
func readText(ctx context.Context, br *bufio.Reader, head []byte, opts Options, fn func(Row) error) (Info, error) {
	info := Info{Format: FormatUnknown}
	t, err := newTextSource(br, head, opts)
	if err != nil {
		return info, err
	}
	info.Encoding = t.enc

	src, l, err := readHeader(t)
	info.Encoding = t.encoding()
	if err != nil {
		return info, err
	}
	err = readBody(ctx, src, l, &info, fn)
	info.Encoding = t.encoding()
	return info, err
}

// newTextSource sets up the splitter: the encoding when a BOM or the caller
// names it, the delimiter and the line end.
func newTextSource(br *bufio.Reader, head []byte, opts Options) (*textSource, error) {
	t := &textSource{
		r:      br,
		buf:    make([]byte, min(initialBuf, opts.maxRowBytes())),
		maxRow: opts.maxRowBytes(),
		delim:  '\t',
		eol:    '\n',
	}

	bom := bytes.HasPrefix(head, utf8BOM)
	switch {
	case opts.Encoding != "":
		if err := t.setEncoding(opts.Encoding); err != nil {
			return nil, err
		}
		t.forced = true
	case bom:
		t.enc = EncodingUTF8BOM
	case bytes.HasPrefix(head, utf16LEBOM):
		t.enc = EncodingUTF16LE
	case bytes.HasPrefix(head, utf16BEBOM):
		t.enc = EncodingUTF16BE
	case isBinary(head):
		return nil, fileError(report.ErrUnsupportedFile, 0, "binary data, not a text flat file")
	}

	switch t.enc {
	case EncodingUTF16LE, EncodingUTF16BE:
		// UTF-16 is not ASCII-compatible: decode the stream to UTF-8 before
		// splitting. The decoder drops the BOM.
		order := unicode.LittleEndian
		if t.enc == EncodingUTF16BE {
			order = unicode.BigEndian
		}
		dec := unicode.UTF16(order, unicode.UseBOM).NewDecoder()
		t.r = transform.NewReader(br, dec)
		head, _, _ = transform.Bytes(unicode.UTF16(order, unicode.UseBOM).NewDecoder(), head[:len(head)&^1])
	default:
		if bom {
			if _, err := br.Discard(len(utf8BOM)); err != nil {
				return nil, readError(err, 0)
			}
			head = head[len(utf8BOM):]
		}
	}

	// Old Mac Excel ends lines with a bare CR.
	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		t.eol = '\r'
	}
	t.delim = sniffDelim(head, t.eol)
	return t, nil
}

// sniffDelim decides the cell delimiter from the first line of head that
// holds one: the most frequent of tab, comma and semicolon outside quotes,
// tab on a tie (Amazon's own exports), tab when no line holds any.
func sniffDelim(head []byte, eol byte) byte {
	for range 10 {
		var tabs, commas, semis int
		quoted := false
		i := 0
		for ; i < len(head); i++ {
			c := head[i]
			if c == '"' {
				quoted = !quoted
				continue
			}
			if quoted {
				continue
			}
			if c == eol {
				break
			}
			switch c {
			case '\t':
				tabs++
			case ',':
				commas++
			case ';':
				semis++
			}
		}
		switch {
		case tabs > 0 && tabs >= commas && tabs >= semis:
			return '\t'
		case commas > 0 && commas >= semis:
			return ','
		case semis > 0:
			return ';'
		}
		if i >= len(head) {
			break
		}
		head = head[i+1:]
	}
	return '\t'
}

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// isBinary reports whether the start of a file holds many bytes no text
// flat file has: control characters, NUL among them. A few stray ones do
// not make text binary; a NUL in a row is malformed_file at that row,
// wherever the row is (see nulError).
func isBinary(head []byte) bool {
	ctl := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' {
			ctl++
		}
	}
	return ctl*20 > len(head)
}

// textSource splits delimited text into rows. Cells are split lazily, up to
// the highest column asked for, straight out of the read buffer; only rows
// that hold a quote go through the slower quote-aware parser, which copies
// the unescaped cells into qbuf.
type textSource struct {
	r          io.Reader
	buf        []byte
	start, end int // unread data is buf[start:end]
	eof        bool
	rerr       error
	maxRow     int
	delim, eol byte

	row int
	// line is the current row's raw text when it holds no quote; rest is
	// the offset of its unsplit remainder, -1 when fully split.
	line   []byte
	rest   int
	quoted bool
	fields [][]byte
	ends   []int
	qbuf   []byte

	textDecoder
}

func (t *textSource) num() int { return t.row }

// next reads the next record.
func (t *textSource) next() (bool, error) {
	t.fields = t.fields[:0]
	for {
		data := t.buf[t.start:t.end]
		nl := bytes.IndexByte(data, t.eol)
		if nl < 0 && !t.eof {
			if err := t.fill(); err != nil {
				return false, err
			}
			continue
		}
		if nl < 0 && len(data) == 0 {
			return false, nil
		}
		if nl < 0 {
			nl = len(data)
		}
		line := data[:nl]
		if bytes.IndexByte(line, '"') >= 0 {
			return t.nextQuoted()
		}

		t.start += min(nl+1, len(data))
		if t.eol == '\n' && len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		t.row++
		t.line, t.rest, t.quoted = line, 0, false
		if bytes.IndexByte(line, 0) >= 0 {
			return false, nulError(t.row)
		}
		if len(line) > maxColumns && bytes.Count(line, []byte{t.delim}) >= maxColumns {
			return false, fileError(report.ErrMalformedFile, t.row, "row has more than %d columns", maxColumns)
		}
		if t.enc == "" {
			t.detect(line, data, t.eof)
		} else if err := t.check(line, t.row); err != nil {
			return false, err
		}
		return true, nil
	}
}

// nextQuoted reads a record that holds a quote; it may span lines.
func (t *textSource) nextQuoted() (bool, error) {
	for {
		data := t.buf[t.start:t.end]
		n, err := t.parseQuoted(data)
		if err != nil {
			return false, err
		}
		if n < 0 {
			if err := t.fill(); err != nil {
				return false, err
			}
			continue
		}

		t.start += n
		t.row++
		t.line, t.rest, t.quoted = nil, -1, true
		if bytes.IndexByte(data[:n], 0) >= 0 {
			return false, nulError(t.row)
		}
		if len(t.fields) > maxColumns {
			return false, fileError(report.ErrMalformedFile, t.row, "row has more than %d columns", maxColumns)
		}
		if t.enc == "" {
			t.detect(data[:n], data, t.eof)
		} else if err := t.check(data[:n], t.row); err != nil {
			return false, err
		}
		return true, nil
	}
}

// parseQuoted parses one record at the start of data, Excel style: a cell
// that starts with a quote runs to the next lone quote, "" stands for one
// quote, and tabs and line ends inside it are text. Text after the closing
// quote is kept. It returns the bytes consumed, or -1 when data ends before
// the record does and more can be read.
func (t *textSource) parseQuoted(data []byte) (int, error) {
	q, ends := t.qbuf[:0], t.ends[:0]
	i := 0
	for {
		if i < len(data) && data[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					if t.eof {
						return 0, fileError(report.ErrMalformedFile, t.row+1, "quoted cell %s never closes", cellRef(len(ends), t.row+1))
					}
					return -1, nil
				}
				q = append(q, data[i:i+j]...)
				i += j + 1
				if i == len(data) && !t.eof {
					return -1, nil
				}
				if i < len(data) && data[i] == '"' {
					q = append(q, '"')
					i++
					continue
				}
				break
			}
		}

		// The unquoted cell, or what follows a closing quote.
		j := t.indexStop(data[i:])
		if j < 0 {
			if !t.eof {
				return -1, nil
			}
			q = append(q, data[i:]...)
			t.finishQuoted(q, append(ends, len(q)))
			return len(data), nil
		}
		seg := data[i : i+j]
		i += j + 1
		if data[i-1] == t.delim {
			q = append(q, seg...)
			ends = append(ends, len(q))
			continue
		}
		if t.eol == '\n' && len(seg) > 0 && seg[len(seg)-1] == '\r' {
			seg = seg[:len(seg)-1]
		}
		q = append(q, seg...)
		t.finishQuoted(q, append(ends, len(q)))
		return i, nil
	}
}

// finishQuoted makes the fields of a parsed record.
func (t *textSource) finishQuoted(q []byte, ends []int) {
	t.qbuf, t.ends = q, ends
	prev := 0
	for _, e := range ends {
		t.fields = append(t.fields, q[prev:e:e])
		prev = e
	}
}

// indexStop returns the index of the first delimiter or line end in b, -1
// when there is none.
func (t *textSource) indexStop(b []byte) int {
	for i, c := range b {
		if c == t.delim || c == t.eol {
			return i
		}
	}
	return -1
}

// errRowTooLong is the cause of the malformed_file error for a row longer
// than Options.MaxRowBytes.
var errRowTooLong = errors.New("row is longer than the row size cap")

// fill reads more data, first moving the unread part to the buffer's start
// and growing the buffer when the unread part fills it.
func (t *textSource) fill() error {
	if t.start > 0 {
		t.end = copy(t.buf, t.buf[t.start:t.end])
		t.start = 0
	}
	if t.end == len(t.buf) {
		if len(t.buf) >= t.maxRow {
			return &FileError{Code: report.ErrMalformedFile, Row: t.row + 1, Err: errRowTooLong}
		}
		grown := make([]byte, min(2*len(t.buf), t.maxRow))
		copy(grown, t.buf[:t.end])
		t.buf = grown
	}
	// Fill the free space completely: a row that needs several fills is
	// parsed again from its start each time, and a full buffer doubles, so
	// this keeps the rescans logarithmic even when the reader hands out
	// small chunks (an S3 body gives tens of KiB per Read).
	// A read error waits until the rows read before it are used up.
	before := t.end
	for t.end < len(t.buf) && t.rerr == nil {
		n, err := t.r.Read(t.buf[t.end:])
		t.end += n
		switch {
		case errors.Is(err, io.EOF):
			t.eof = true
			return nil
		case err != nil:
			t.rerr = err
		case n == 0:
			return nil
		}
	}
	if t.end == before && t.rerr != nil {
		return readError(t.rerr, t.row+1)
	}
	return nil
}

// cell returns the raw bytes of cell i, splitting the line as far as needed.
func (t *textSource) cell(i int) []byte {
	for len(t.fields) <= i && t.rest >= 0 {
		rem := t.line[t.rest:]
		j := bytes.IndexByte(rem, t.delim)
		if j < 0 {
			t.fields = append(t.fields, rem)
			t.rest = -1
			break
		}
		t.fields = append(t.fields, rem[:j:j])
		t.rest += j + 1
	}
	if i < len(t.fields) {
		return t.fields[i]
	}
	return nil
}

func (t *textSource) bytes(i int) []byte { return t.cell(i) }

func (t *textSource) str(i int) string { return t.decode(t.cell(i)) }

func (t *textSource) appendText(dst []byte, i int) []byte { return t.appendDecoded(dst, t.cell(i)) }

func (t *textSource) strs() []string {
	t.cell(int(^uint(0) >> 1))
	out := make([]string, len(t.fields))
	for i, f := range t.fields {
		out[i] = t.decode(f)
	}
	return out
}

func (t *textSource) blank() bool {
	if !t.quoted {
		for _, c := range t.line {
			if c != t.delim && !isSpace(c) {
				return false
			}
		}
		return true
	}
	for _, f := range t.fields {
		if len(trimASCII(f)) > 0 {
			return false
		}
	}
	return true
}

// nulError is the error for a row holding a NUL byte: no spreadsheet or
// marketplace writes one, so the file is damaged (or not the text it seems),
// and a URL cut at the NUL by one reader and not another must not pass.
func nulError(row int) error {
	return fileError(report.ErrMalformedFile, row, "row holds a NUL byte")
}
