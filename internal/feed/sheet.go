package feed

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/flatguard/flatguard/internal/report"
)

// xmlStream is a strict XML token stream over one workbook part that keeps
// count of element depth.
type xmlStream struct {
	dec   *xml.Decoder
	r     io.Reader
	c     io.Closer
	depth int
}

func newXMLStream(r io.Reader, c io.Closer) *xmlStream {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	return &xmlStream{dec: dec, r: r, c: c}
}

// drain reads the rest of the part without parsing it, so that the zip
// checksum of the whole part is checked.
func (x *xmlStream) drain() error {
	// Through Read only: io.Copy would take bufio.Reader's WriteTo, which
	// skips an error the buffer holds back.
	_, err := io.Copy(io.Discard, struct{ io.Reader }{x.r})
	return err
}

func (x *xmlStream) close() { x.c.Close() }

// token returns the next token; io.EOF only at a clean end of the part. An
// undefined entity, a stray '&' or '<', a mismatched or unclosed element
// are errors.
func (x *xmlStream) token() (xml.Token, error) {
	t, err := x.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t.(type) {
	case xml.StartElement:
		x.depth++
		if x.depth > maxXMLDepth {
			return nil, errXMLDepth
		}
	case xml.EndElement:
		x.depth--
	}
	return t, nil
}

// mustToken is token for a place where the part may not end.
func (x *xmlStream) mustToken() (xml.Token, error) {
	t, err := x.token()
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return t, err
}

// skip reads past the end of the element whose start was just read.
func (x *xmlStream) skip() error {
	for d := x.depth; x.depth >= d; {
		if _, err := x.mustToken(); err != nil {
			return err
		}
	}
	return nil
}

// errPartTooLarge is the cause when a part read whole passes maxSmallPart.
var errPartTooLarge = fmt.Errorf("part is larger than %d bytes", maxSmallPart)

// each calls fn for every start element of the part, reading it to its end
// (so that the zip checksum is checked too) and at most limit bytes.
func (x *xmlStream) each(fn func(xml.StartElement), limit int64) error {
	for {
		t, err := x.token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if x.dec.InputOffset() > limit {
			return errPartTooLarge
		}
		if se, ok := t.(xml.StartElement); ok {
			fn(se)
		}
	}
}

// sharedStrings is the workbook's shared string table: in memory up to
// sstMemBytes of text, else in a temporary file, with the end offset of
// each string in memory (4 bytes a string, at most maxSharedStrings).
type sharedStrings struct {
	tempDir string
	mem     []byte
	file    *os.File
	w       *bufio.Writer
	size    int64
	ends    []uint32
}

// load reads the shared strings part. A string is the text of its <t>
// elements, plain or in rich-text runs; phonetic runs (<rPh>) are left out,
// as Excel shows them only on request.
func (s *sharedStrings) load(b *book, part string) error {
	x, err := b.openPart(part)
	if err != nil {
		return err
	}
	defer x.close()
	var cur []byte
	inSI, inT, rph := false, false, 0
	for {
		t, err := x.token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return partError(part, 0, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI, cur = true, cur[:0]
			case "rPh":
				rph++
			case "t":
				inT = inSI && rph == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if err := s.add(cur); err != nil {
					return err
				}
				inSI = false
			case "rPh":
				rph--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				cur = append(cur, t...)
				if len(cur) > 4*maxXMLRun {
					return fileError(report.ErrMalformedFile, 0, "shared string %d is longer than %d bytes", len(s.ends), 4*maxXMLRun)
				}
			}
		}
	}
	if s.w != nil {
		if err := s.w.Flush(); err != nil {
			return &FileError{Code: report.ErrUnreadableFile, Err: fmt.Errorf("write shared strings: %w", err)}
		}
	}
	return nil
}

func (s *sharedStrings) add(text []byte) error {
	if len(s.ends) >= maxSharedStrings {
		return fileError(report.ErrFileTooLarge, 0, "workbook holds more than %d shared strings", maxSharedStrings)
	}
	text = unescapeOOXML(text)
	if s.size+int64(len(text)) > math.MaxUint32 {
		return fileError(report.ErrFileTooLarge, 0, "shared strings hold more than %d bytes", int64(math.MaxUint32))
	}
	if s.file == nil && len(s.mem)+len(text) > sstMemBytes {
		f, err := os.CreateTemp(s.tempDir, "flatguard-sst-*")
		if err != nil {
			return &FileError{Code: report.ErrUnreadableFile, Err: err}
		}
		s.file, s.w = f, bufio.NewWriterSize(f, 64<<10)
		s.w.Write(s.mem)
		s.mem = nil
	}
	if s.w != nil {
		if _, err := s.w.Write(text); err != nil {
			return &FileError{Code: report.ErrUnreadableFile, Err: fmt.Errorf("write shared strings: %w", err)}
		}
	} else {
		s.mem = append(s.mem, text...)
	}
	s.size += int64(len(text))
	s.ends = append(s.ends, uint32(s.size))
	return nil
}

// appendTo appends string i to dst.
func (s *sharedStrings) appendTo(dst []byte, i int) ([]byte, error) {
	if i < 0 || i >= len(s.ends) {
		return dst, fmt.Errorf("shared string %d does not exist (the table holds %d)", i, len(s.ends))
	}
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	end := s.ends[i]
	if s.file == nil {
		return append(dst, s.mem[start:end]...), nil
	}
	n := len(dst)
	dst = append(dst, make([]byte, end-start)...)
	if _, err := s.file.ReadAt(dst[n:], int64(start)); err != nil {
		return dst[:n], fmt.Errorf("read shared string %d: %w", i, err)
	}
	return dst, nil
}

func (s *sharedStrings) close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
}

// unescapeOOXML decodes the _xHHHH_ escapes Excel writes for characters
// XML cannot hold (_x000D_ for a carriage return).
func unescapeOOXML(b []byte) []byte {
	if bytes.Index(b, []byte("_x")) < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if i+7 <= len(b) && b[i] == '_' && b[i+1] == 'x' && b[i+6] == '_' {
			if v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil {
				out = utf8.AppendRune(out, rune(v))
				i += 7
				continue
			}
		}
		out = append(out, b[i])
		i++
	}
	return out
}

// sheetSource streams a worksheet part. Every row number is handed out,
// also those of rows the sheet does not store (as blank rows), so that
// numbers are the sheet's own.
//
// Cells are placed by their own A1 reference (r attribute); a cell without
// one follows the previous cell. A cell whose reference names another row,
// a column already filled in the row or a column left of the previous
// cell is malformed_file: a checker reading one of two values for a cell,
// or a value in another column, could pass a URL the marketplace never
// sees. Rows must come in ascending order, as Excel writes them; a row at
// or below an earlier one is malformed_file at that row.
//
// sheetSource is the strict pass (see doc.go): it validates the sheet,
// records which cells of each row hold a value (prints) and gives the
// values the upload sheet is chosen by. Its values are the cells' stored
// text, as the workbook library's (libsheet.go) are: shared and inline
// strings as written, numbers and booleans (1 or 0) as stored. Number
// formats are not applied.
type sheetSource struct {
	x      *xmlStream
	sheet  string
	sst    *sharedStrings
	maxRow int

	started, done bool
	n             int  // current row number
	last          int  // number of the last stored row read
	pending       bool // the stored row last is read and not yet handed out

	buf   []byte    // the text of the stored row's cells
	spans []valSpan // where each cell's text is in buf
	seen  [maxColumns / 64]uint64
	val   []byte

	// prints holds, for every stored row with a non-empty cell, which
	// cells those are (see rowPrint).
	prints []rowPrint

	all      []string // backing array of cells; unset entries are ""
	set      []int    // columns of all that hold text
	cells    []string
	blankRow bool
	scratch  []byte
}

// valSpan is one cell's column and text in sheetSource.buf.
type valSpan struct {
	col, start, end int
}

func (s *sheetSource) close() { s.x.close() }

// finish reads the part past the rows, to its end: a zip checksum that does
// not match means bytes of the sheet were damaged, maybe among the rows.
func (s *sheetSource) finish() error {
	if err := s.x.drain(); err != nil {
		return partError("sheet "+strconv.Quote(s.sheet), 0, fmt.Errorf("after its last row: %w", err))
	}
	return nil
}

func (s *sheetSource) next() (bool, error) {
	if !s.pending {
		if s.done {
			return false, nil
		}
		ok, err := s.readRow()
		if err != nil {
			return false, err
		}
		if !ok {
			s.done = true
			return false, nil
		}
		s.pending = true
	}
	s.n++
	if s.n < s.last {
		s.clearCells()
		s.cells, s.blankRow = s.all[:0], true
		return true, nil
	}
	s.pending = false
	s.fillCells()
	return true, nil
}

// readRow reads the next stored row into buf and spans; false at the end of
// sheetData.
func (s *sheetSource) readRow() (bool, error) {
	for {
		t, err := s.x.token()
		if errors.Is(err, io.EOF) && !s.started {
			// No sheetData at all (a chart sheet, say): no rows.
			return false, nil
		}
		if err != nil {
			return false, s.err(s.last+1, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch {
			case !s.started:
				s.started = t.Name.Local == "sheetData"
			case t.Name.Local == "row":
				return true, s.readCells(t)
			default:
				if err := s.x.skip(); err != nil {
					return false, s.err(s.last+1, err)
				}
			}
		case xml.EndElement:
			if s.started && t.Name.Local == "sheetData" {
				return false, nil
			}
		}
	}
}

func (s *sheetSource) err(row int, err error) error {
	return partError("sheet "+strconv.Quote(s.sheet), row, err)
}

// readCells reads the cells of the row element that starts with start.
func (s *sheetSource) readCells(start xml.StartElement) error {
	num := s.last + 1
	if v, ok := attr(start, "r"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fileError(report.ErrMalformedFile, s.last+1, "row number %q is not a number from 1 to %d", v, maxSheetRows)
		}
		num = n
	}
	switch {
	case num > maxSheetRows:
		return fileError(report.ErrMalformedFile, num, "row number %d is beyond Excel's last row %d", num, maxSheetRows)
	case num <= s.last:
		return fileError(report.ErrMalformedFile, num, "row %d comes after row %d: rows out of order or repeated", num, s.last)
	}
	s.last = num

	for _, sp := range s.spans {
		s.seen[sp.col/64] &^= 1 << (sp.col % 64)
	}
	s.buf, s.spans = s.buf[:0], s.spans[:0]
	col := -1
	for {
		t, err := s.x.mustToken()
		if err != nil {
			return s.err(num, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := s.x.skip(); err != nil {
					return s.err(num, err)
				}
				continue
			}
			if col, err = s.readCell(t, num, col); err != nil {
				return err
			}
		case xml.EndElement:
			// Children are read whole, so this is the row's end.
			s.printRow(num)
			return nil
		}
	}
}

// readCell reads one c element of row num; prev is the column of the
// previous cell. It returns the cell's column.
func (s *sheetSource) readCell(start xml.StartElement, num, prev int) (int, error) {
	col, typ := prev+1, ""
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "r":
			c, r, ok := parseCellRef(a.Value)
			if !ok {
				return 0, fileError(report.ErrMalformedFile, num, "cell reference %q is not an A1 reference", a.Value)
			}
			if r != num {
				return 0, fileError(report.ErrMalformedFile, num, "cell %s is inside row %d", a.Value, num)
			}
			col = c
		case "t":
			typ = a.Value
		}
	}
	if col >= maxColumns {
		return 0, fileError(report.ErrMalformedFile, num, "row has more than %d columns", maxColumns)
	}
	if s.seen[col/64]&(1<<(col%64)) != 0 {
		return 0, fileError(report.ErrMalformedFile, num, "cell %s appears twice", cellRef(col, num))
	}
	if col < prev {
		// Excel writes cells left to right; the workbook library places
		// cells by their order, so a cell out of order would land in
		// another column there.
		return 0, fileError(report.ErrMalformedFile, num, "cell %s comes after cell %s: cells out of order", cellRef(col, num), cellRef(prev, num))
	}
	s.seen[col/64] |= 1 << (col % 64)
	s.spans = append(s.spans, valSpan{col: col, start: len(s.buf), end: len(s.buf)})

	// The value: the text of <v>, or of the <t> elements of <is> outside
	// phonetic runs. <f> (the formula) is not needed: <v> holds its result.
	s.val = s.val[:0]
	d := s.x.depth
	inV, inIS, inT, rph := false, false, false, 0
	for {
		t, err := s.x.mustToken()
		if err != nil {
			return 0, s.err(num, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch name := t.Name.Local; {
			case s.x.depth == d+1 && name == "v":
				inV = true
			case s.x.depth == d+1 && name == "is":
				inIS = true
			case inIS && name == "rPh":
				rph++
			case inIS && rph == 0 && name == "t":
				inT = true
			}
		case xml.EndElement:
			if s.x.depth < d {
				return col, s.setValue(num, col, typ)
			}
			switch t.Name.Local {
			case "v":
				inV = false
			case "is":
				inIS = false
			case "rPh":
				rph--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inV || inT {
				s.val = append(s.val, t...)
				if len(s.val) > s.maxRow {
					return 0, fileError(report.ErrMalformedFile, num, "row is longer than %d bytes", s.maxRow)
				}
			}
		}
	}
}

// setValue turns the raw value in val into the cell's text in buf.
func (s *sheetSource) setValue(num, col int, typ string) error {
	sp := &s.spans[len(s.spans)-1]
	if len(s.val) > 0 {
		var err error
		switch typ {
		case "s":
			i, perr := strconv.Atoi(string(bytes.TrimSpace(s.val)))
			if perr != nil {
				return fileError(report.ErrMalformedFile, num, "cell %s: shared string index %q is not a number", cellRef(col, num), s.val)
			}
			if s.buf, err = s.sst.appendTo(s.buf, i); err != nil {
				return &FileError{Code: report.ErrMalformedFile, Row: num, Err: fmt.Errorf("cell %s: %w", cellRef(col, num), err)}
			}
		case "inlineStr", "str":
			s.buf = append(s.buf, unescapeOOXML(s.val)...)
		default:
			// Numbers, booleans, errors and dates as stored.
			s.buf = append(s.buf, s.val...)
		}
	}
	sp.end = len(s.buf)
	if len(s.buf) > s.maxRow {
		return fileError(report.ErrMalformedFile, num, "row is longer than %d bytes", s.maxRow)
	}
	return nil
}

// printRow records the non-empty cells of the stored row num.
func (s *sheetSource) printRow(num int) {
	p := rowPrint{row: uint32(num)}
	for _, sp := range s.spans {
		if sp.end > sp.start {
			p.add(sp.col)
		}
	}
	if p.cells > 0 {
		s.prints = append(s.prints, p)
	}
}

// fillCells makes the cells of the stored row read last.
func (s *sheetSource) fillCells() {
	s.clearCells()
	width := 0
	for _, sp := range s.spans {
		width = max(width, sp.col+1)
	}
	if width > len(s.all) {
		s.all = append(s.all, make([]string, width-len(s.all))...)
	}
	text := string(s.buf)
	s.blankRow = true
	for _, sp := range s.spans {
		if sp.end == sp.start {
			continue
		}
		v := text[sp.start:sp.end]
		s.all[sp.col] = v
		s.set = append(s.set, sp.col)
		if s.blankRow && len(bytes.TrimSpace(s.buf[sp.start:sp.end])) > 0 {
			s.blankRow = false
		}
	}
	s.cells = s.all[:width]
}

func (s *sheetSource) clearCells() {
	for _, c := range s.set {
		s.all[c] = ""
	}
	s.set = s.set[:0]
}

func (s *sheetSource) num() int { return s.n }

func (s *sheetSource) bytes(i int) []byte {
	s.scratch = append(s.scratch[:0], s.str(i)...)
	return s.scratch
}

func (s *sheetSource) str(i int) string {
	if i < len(s.cells) {
		return s.cells[i]
	}
	return ""
}

func (s *sheetSource) strs() []string { return s.cells }

func (s *sheetSource) appendText(dst []byte, i int) []byte { return append(dst, s.str(i)...) }

func (s *sheetSource) blank() bool { return s.blankRow }

// attr returns the value of the attribute named local.
func attr(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// parseCellRef parses an A1 reference into a 0-based column and a row. A
// column past maxColumns comes back as maxColumns.
func parseCellRef(ref string) (col, row int, ok bool) {
	i := 0
	for ; i < len(ref); i++ {
		c := ref[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		default:
			goto digits
		}
		col = min(col*26+int(c-'A'+1), maxColumns+1)
	}
digits:
	if i == 0 || i == len(ref) {
		return 0, 0, false
	}
	for _, c := range []byte(ref[i:]) {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		row = min(row*10+int(c-'0'), maxSheetRows+1)
	}
	return col - 1, row, true
}
