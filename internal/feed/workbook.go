package feed

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/flatguard/flatguard/internal/report"
)

// templateSheets are the names Amazon gives the upload sheet, in the
// languages of its marketplaces. A sheet of that name is tried first.
var templateSheets = []string{
	"Template", "Vorlage", "Modèle", "Plantilla", "Modello", "テンプレート",
	"Sjabloon", "Mall", "Szablon", "Şablon", "Modelo", "模板", "قالب", "Шаблон",
}

// readWorkbook reads an .xlsx or .xlsm workbook. r is the caller's reader,
// br the buffered reader Read has peeked from (its bytes come first).
func readWorkbook(ctx context.Context, r io.Reader, br *bufio.Reader, opts Options, fn func(Row) error) (Info, error) {
	info := Info{Format: FormatUnknown, Encoding: EncodingUTF8}
	path, cleanup, err := workbookPath(r, br, opts)
	if err != nil {
		return info, err
	}
	defer cleanup()

	unzipCap := opts.maxFileBytes() * unzipFactor
	if err := checkZip(path, unzipCap); err != nil {
		return info, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{
		UnzipSizeLimit:    unzipCap,
		UnzipXMLSizeLimit: min(maxUnzipXMLBytes, unzipCap),
		TmpDir:            opts.TempDir,
	})
	if err != nil {
		return info, &FileError{Code: report.ErrMalformedFile, Err: err}
	}
	defer f.Close()

	sheet, src, l, err := pickSheet(f)
	if err != nil {
		return info, err
	}
	defer sheet.rows.Close()
	info.Sheet = sheet.sheet
	err = readBody(ctx, src, l, &info, fn)
	return info, err
}

// workbookPath returns a path to the workbook on disk: the caller's own file
// when r is an *os.File for a regular file, else a spooled copy that cleanup
// removes.
func workbookPath(r io.Reader, br *bufio.Reader, opts Options) (string, func(), error) {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if fi.Size() > opts.maxFileBytes() {
				return "", nil, &FileError{Code: report.ErrFileTooLarge, Err: errTooLarge}
			}
			if st, err := os.Stat(f.Name()); err == nil && os.SameFile(fi, st) {
				return f.Name(), func() {}, nil
			}
		}
	}

	tmp, err := os.CreateTemp(opts.TempDir, "flatguard-*.xlsx")
	if err != nil {
		return "", nil, &FileError{Code: report.ErrUnreadableFile, Err: err}
	}
	cleanup := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	if _, err := io.Copy(tmp, br); err != nil {
		cleanup()
		return "", nil, readError(err, 0)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", nil, &FileError{Code: report.ErrUnreadableFile, Err: err}
	}
	return tmp.Name(), cleanup, nil
}

// checkZip makes sure the zip is a workbook that unpacks to at most unzipCap
// bytes, so that the workbook library's own limits never trip on an
// unexplained error.
func checkZip(path string, unzipCap int64) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return &FileError{Code: report.ErrMalformedFile, Err: err}
	}
	defer zr.Close()
	var total uint64
	workbook := false
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		name := strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))
		workbook = workbook || name == "xl/workbook.xml"
	}
	if total > uint64(unzipCap) {
		return fileError(report.ErrFileTooLarge, 0, "workbook unpacks to %d bytes, more than the %d-byte cap", total, unzipCap)
	}
	if !workbook {
		return fileError(report.ErrUnsupportedFile, 0, "zip archive is not an .xlsx or .xlsm workbook")
	}
	return nil
}

// pickSheet finds the upload sheet as a person would: a sheet named like
// Amazon's template sheet first, then the others in workbook order; the first
// whose rows match a known layout wins.
func pickSheet(f *excelize.File) (*sheetSource, source, *layout, error) {
	sheets := f.GetSheetList()
	var order []string
	for _, name := range templateSheets {
		for _, s := range sheets {
			if strings.EqualFold(strings.TrimSpace(s), name) {
				order = append(order, s)
			}
		}
	}
	for _, s := range sheets {
		if !contains(order, s) {
			order = append(order, s)
		}
	}

	var firstErr error
	for _, sheet := range order {
		rows, err := f.Rows(sheet)
		if err != nil {
			return nil, nil, nil, &FileError{Code: report.ErrMalformedFile, Err: err}
		}
		sh := &sheetSource{rows: rows, sheet: sheet}
		src, l, err := readHeader(sh)
		if err == nil {
			return sh, src, l, nil
		}
		rows.Close()
		var fe *FileError
		if errors.As(err, &fe) && fe.Code == report.ErrUnsupportedFile {
			continue
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, nil, nil, firstErr
	}
	return nil, nil, nil, fileError(report.ErrUnsupportedFile, 0, "no sheet of the workbook matches a known flat-file layout (sheets: %s)", strings.Join(sheets, ", "))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sheetSource streams a worksheet. The iterator's Next is called once per row
// number, also for rows the sheet does not store, so counting calls gives the
// sheet's own row numbers.
type sheetSource struct {
	rows    *excelize.Rows
	sheet   string
	n       int
	cells   []string
	scratch []byte
}

func (s *sheetSource) next() (bool, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return false, &FileError{Code: report.ErrMalformedFile, Row: s.n + 1, Err: err}
		}
		return false, nil
	}
	s.n++
	cells, err := s.rows.Columns()
	if err != nil {
		return false, &FileError{Code: report.ErrMalformedFile, Row: s.n, Err: err}
	}
	s.cells = cells
	return true, nil
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

func (s *sheetSource) blank() bool {
	for _, c := range s.cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
