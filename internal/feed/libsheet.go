package feed

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/flatguard/flatguard/internal/report"
)

// The second pass over a workbook: excelize reads the values of the sheet
// the strict pass chose and read to its end. The values are the stored
// ones (excelize's RawCellValue): no number format is applied, as the
// marketplace reads a cell's value, not what Excel shows of it.
//
// excelize is given a copy of the workbook that holds only the parts the
// strict pass has read whole under its caps: the workbook part, the styles,
// the shared strings and the chosen sheet, copied compressed as they are.
// It inflates every part of a zip when it opens it and keeps most of them in
// memory, so a part the strict pass never read (a theme, a calculation
// chain, an image, a macro project) could cost what the caps forbid. The two
// relationship parts of the copy are written here and point to those parts
// only.

// libXMLMemBytes is the size past which excelize spools the sheet and the
// shared strings to a temporary file instead of holding them in memory.
const libXMLMemBytes = 1 << 20

// Names of the parts in the copy given to excelize.
const (
	libSheetPart   = "xl/worksheets/sheet1.xml"
	libSSTPart     = "xl/sharedStrings.xml"
	libStylesPart  = "xl/styles.xml"
	libBookPart    = "xl/workbook.xml"
	libBookRels    = "xl/_rels/workbook.xml.rels"
	libRootRels    = "_rels/.rels"
	relsNamespace  = "http://schemas.openxmlformats.org/package/2006/relationships"
	relStylesType  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
	libRootRelsXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<Relationships xmlns="` + relsNamespace + `"><Relationship Id="rId1" Type="` +
		excelize.SourceRelationshipOfficeDocument + `" Target="` + libBookPart + `"/></Relationships>`
)

// libBook is the workbook open in excelize, with the chosen sheet's rows.
type libBook struct {
	file   *excelize.File
	rows   *excelize.Rows
	src    *bookSource
	closed bool
}

// openLibBook copies the parts excelize needs out of b, opens the copy with
// excelize under the same unzip cap and starts the rows of the sheet ref.
// prints are the strict pass's records of that sheet's rows.
func openLibBook(b *book, ref sheetRef, prints []rowPrint) (*libBook, error) {
	p, err := b.libCopy(ref)
	if err != nil {
		return nil, err
	}
	unzipCap := b.opts.maxUnzipBytes()
	f, err := excelize.OpenFile(p, excelize.Options{
		UnzipSizeLimit:    unzipCap,
		UnzipXMLSizeLimit: min(libXMLMemBytes, unzipCap),
		TmpDir:            b.opts.TempDir,
	})
	// excelize has inflated what it keeps by the time OpenFile returns.
	os.Remove(p)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, libError(0, fmt.Errorf("open workbook: %w", err))
	}
	rows, err := f.Rows(ref.name)
	if err != nil {
		f.Close()
		return nil, libError(0, fmt.Errorf("open sheet %q: %w", ref.name, err))
	}
	lb := &libBook{file: f, rows: rows}
	lb.src = &bookSource{rows: rows, sheet: ref.name, check: printCheck{prints: prints}}
	return lb, nil
}

// close closes the rows and the workbook (removing excelize's temporary
// files); only the first call does anything.
func (lb *libBook) close() error {
	if lb.closed {
		return nil
	}
	lb.closed = true
	rowsErr := lb.rows.Close()
	fileErr := lb.file.Close()
	if rowsErr != nil {
		return libError(lb.src.n, fmt.Errorf("read sheet %q: %w", lb.src.sheet, rowsErr))
	}
	if fileErr != nil {
		return &FileError{Code: report.ErrUnreadableFile, Err: fmt.Errorf("close workbook: %w", fileErr)}
	}
	return nil
}

// libError is a malformed_file error from excelize at row (0 for none). The
// strict pass has read every byte excelize reads, so it means the two
// readers disagree about the file.
func libError(row int, err error) error {
	return &FileError{Code: report.ErrMalformedFile, Row: row, Err: err}
}

// libCopy writes the zip excelize opens into a temporary file and returns
// its path.
func (b *book) libCopy(ref sheetRef) (string, error) {
	tmp, err := os.CreateTemp(b.opts.TempDir, "flatguard-lib-*.xlsx")
	if err != nil {
		return "", &FileError{Code: report.ErrUnreadableFile, Err: err}
	}
	fail := func(err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		var fe *FileError
		if errors.As(err, &fe) {
			return "", err
		}
		return "", &FileError{Code: report.ErrUnreadableFile, Err: fmt.Errorf("copy workbook parts: %w", err)}
	}

	zw := zip.NewWriter(tmp)
	if err := writePart(zw, libRootRels, libRootRelsXML); err != nil {
		return fail(err)
	}
	if err := writePart(zw, libBookRels, libRelsXML(ref.id, b.sstPart != "", b.stylesPart != "")); err != nil {
		return fail(err)
	}
	copies := []struct{ from, to string }{
		{"xl/workbook.xml", libBookPart},
		{ref.part, libSheetPart},
		{b.sstPart, libSSTPart},
		{b.stylesPart, libStylesPart},
	}
	for _, c := range copies {
		if c.from == "" {
			continue
		}
		if err := copyRaw(zw, b.parts[c.from], c.to); err != nil {
			return fail(err)
		}
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	return tmp.Name(), nil
}

// libRelsXML is the workbook's relationships part of the copy: the chosen
// sheet under its own id, and the shared strings and styles when present.
func libRelsXML(sheetID string, sst, styles bool) string {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="` + relsNamespace + `">`)
	rel := func(id, typ, target string) {
		sb.WriteString(`<Relationship Id="`)
		xml.EscapeText(&sb, []byte(id))
		sb.WriteString(`" Type="` + typ + `" Target="/` + target + `"/>`)
	}
	rel(sheetID, excelize.SourceRelationshipWorkSheet, libSheetPart)
	// Ids of their own, which cannot be the sheet's.
	if sst {
		rel(sheetID+"-strings", excelize.SourceRelationshipSharedStrings, libSSTPart)
	}
	if styles {
		rel(sheetID+"-styles", relStylesType, libStylesPart)
	}
	sb.WriteString(`</Relationships>`)
	return sb.String()
}

func writePart(zw *zip.Writer, name, text string) error {
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

// copyRaw copies a part's compressed bytes under a new name: nothing is
// inflated here, and the checksum goes along for excelize to check.
func copyRaw(zw *zip.Writer, zf *zip.File, name string) error {
	raw, err := zf.OpenRaw()
	if err != nil {
		return err
	}
	fh := zf.FileHeader
	fh.Name = name
	w, err := zw.CreateRaw(&fh)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, raw)
	return err
}

// rowPrint records which cells of a stored row hold a value: how many, and
// the sum of a mixed form of their column numbers. It is what the strict
// pass keeps of a row (16 bytes) to check excelize's reading of it.
type rowPrint struct {
	row   uint32
	cells uint32
	sum   uint64
}

// add records a value in column col (0-based).
func (p *rowPrint) add(col int) {
	x := uint64(col) + 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	p.cells++
	p.sum += x ^ x>>31
}

// printCheck compares the rows excelize gives with the strict pass's
// records of the same sheet, in order.
type printCheck struct {
	prints []rowPrint
	next   int
}

// row checks excelize's cells of row n: the non-empty ones must be the
// cells the strict pass found values in, no more, no fewer, in the same
// columns.
func (c *printCheck) row(n int, cells []string) error {
	got := rowPrint{row: uint32(n)}
	for i, v := range cells {
		if v != "" {
			got.add(i)
		}
	}
	want := rowPrint{row: uint32(n)}
	if c.next < len(c.prints) {
		switch p := c.prints[c.next]; {
		case int(p.row) < n:
			return mismatchError(p, rowPrint{row: p.row})
		case int(p.row) == n:
			want = p
			c.next++
		}
	}
	if got != want {
		return mismatchError(want, got)
	}
	return nil
}

// end checks that excelize gave every row the strict pass found values in.
func (c *printCheck) end() error {
	if c.next < len(c.prints) {
		p := c.prints[c.next]
		return mismatchError(p, rowPrint{row: p.row})
	}
	return nil
}

func mismatchError(want, got rowPrint) error {
	return fileError(report.ErrMalformedFile, int(want.row), "row %d: the workbook library reads %d cells with values, the strict reader %d, or not in the same columns", want.row, got.cells, want.cells)
}

// bookSource streams the chosen sheet's rows from excelize. Next is called
// once per row number, also for rows the sheet does not store, so
// counting calls gives the sheet's own row numbers; cells are at the index
// of their column, as the strict pass has refused cells out of order or
// twice, and every row is checked against the strict pass's record.
//
// The cells are the stored values (rawValues): strings as stored, numbers
// in their stored form, booleans 1 or 0, dates as serial numbers. A number
// format cannot hide a value, prefix it or show other text in its place.
type bookSource struct {
	rows     *excelize.Rows
	sheet    string
	check    printCheck
	n        int
	cells    []string
	blankRow bool
	scratch  []byte
}

// rawValues asks excelize for the stored values, number formats unapplied.
var rawValues = excelize.Options{RawCellValue: true}

func (s *bookSource) next() (bool, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return false, libError(s.n+1, fmt.Errorf("read sheet %q: %w", s.sheet, err))
		}
		return false, s.check.end()
	}
	s.n++
	cells, err := s.rows.Columns(rawValues)
	if err != nil {
		return false, libError(s.n, fmt.Errorf("read sheet %q row %d: %w", s.sheet, s.n, err))
	}
	if err := s.check.row(s.n, cells); err != nil {
		return false, err
	}
	s.cells = cells
	s.blankRow = true
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			s.blankRow = false
			break
		}
	}
	return true, nil
}

func (s *bookSource) num() int { return s.n }

func (s *bookSource) bytes(i int) []byte {
	s.scratch = append(s.scratch[:0], s.str(i)...)
	return s.scratch
}

func (s *bookSource) str(i int) string {
	if i < len(s.cells) {
		return s.cells[i]
	}
	return ""
}

func (s *bookSource) strs() []string { return s.cells }

func (s *bookSource) appendText(dst []byte, i int) []byte { return append(dst, s.str(i)...) }

func (s *bookSource) blank() bool { return s.blankRow }
