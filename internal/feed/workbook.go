package feed

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/flatguard/flatguard/internal/report"
)

// The strict pass over a workbook (see doc.go) reads it with archive/zip and
// encoding/xml directly: the workbook library's streaming row iterator drops
// XML errors (a broken sheet read as a shorter one that passes), files cells
// by their order instead of their references, and buffers long runs of
// whitespace whole, which let a small zip take gigabytes of memory. Reading
// the parts here first keeps every error and every byte under a stated cap
// before the library (libsheet.go) reads the values.
//
// The caps, all checked while reading as well as on the sizes the zip
// declares (which a hostile zip can fake):
//
//   - Options.MaxUnzipBytes for all the bytes inflated from the zip;
//   - maxSmallPart for a part read whole (workbook, relationships, styles);
//   - maxXMLRun for the bytes between two '<': the XML decoder buffers a
//     text run whole, and no cell (32,767 characters at most) comes near it;
//   - maxXMLDepth for element nesting, which the decoder keeps a stack for;
//   - Options.MaxRowBytes for the text of one row, as for text files;
//   - maxZipEntries for the zip's central directory, which archive/zip
//     loads whole before anything else can be checked;
//   - shared strings beyond sstMemBytes go to a temporary file.
const (
	// DefaultMaxUnzipBytes is how many bytes a workbook may unpack to when
	// Options.MaxUnzipBytes is 0.
	DefaultMaxUnzipBytes = 256 << 20
	maxSmallPart         = 16 << 20
	maxXMLRun            = 1 << 20
	maxXMLDepth          = 64
	maxZipEntries        = 10_000
	maxCentralDir        = 8 << 20
	sstMemBytes          = 16 << 20
	// maxSharedStrings bounds the shared string table. excelize indexes
	// every string of it (about 100 bytes each at peak) before it hands
	// out the first: 2 Mi strings keep that near 200 MB, and hold a
	// 120,000-row template with ten distinct URLs a row.
	maxSharedStrings = 2 << 20
	// maxSheetRows is Excel's row limit (maxColumns its column limit).
	maxSheetRows = 1_048_576
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
	p, cleanup, err := workbookPath(r, br, opts)
	if err != nil {
		return info, err
	}
	defer cleanup()

	if err := checkCentralDir(p); err != nil {
		return info, err
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		return info, &FileError{Code: report.ErrMalformedFile, Err: err}
	}
	defer zr.Close()
	b, err := openBook(&zr.Reader, opts)
	if err != nil {
		return info, err
	}
	defer b.close()

	// Pass 1, strict: choose the sheet, then read it to its end.
	sheet, ref, err := b.pickSheet()
	if err != nil {
		return info, err
	}
	err = sheet.validate(ctx)
	sheet.close()
	if err != nil {
		return info, err
	}

	// Pass 2, the workbook library, on the parts pass 1 has read whole.
	lib, err := openLibBook(b, ref, sheet.prints)
	if err != nil {
		return info, err
	}
	defer lib.close()
	info.Sheet = ref.name
	src, l, err := readHeader(lib.src)
	if err != nil {
		return info, err
	}
	if err := readBody(ctx, src, l, &info, fn); err != nil {
		return info, err
	}
	return info, lib.close()
}

// validate reads the rest of the sheet (its rows and then its bytes to the
// end of the part), keeping the strict reader's rules and caps.
func (s *sheetSource) validate(ctx context.Context) error {
	for n := 0; ; n++ {
		if n%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return s.finish()
		}
	}
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

// checkCentralDir reads the zip's end-of-central-directory record and
// refuses a directory of more than maxZipEntries entries or maxCentralDir
// bytes: archive/zip keeps a few hundred bytes per entry, so a 500 MB zip
// of empty entries would cost gigabytes before any other cap could act. A
// record that cannot be found is left to archive/zip to report.
func checkCentralDir(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return &FileError{Code: report.ErrUnreadableFile, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return &FileError{Code: report.ErrUnreadableFile, Err: err}
	}
	size := fi.Size()
	tail := make([]byte, min(size, 22+65535+20))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return &FileError{Code: report.ErrUnreadableFile, Err: err}
	}
	i := len(tail) - 22
	for ; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) == 0x06054b50 {
			break
		}
	}
	if i < 0 {
		return nil
	}
	entries := uint64(binary.LittleEndian.Uint16(tail[i+10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(tail[i+12:]))
	if (entries == 0xFFFF || dirSize == 0xFFFFFFFF) && i >= 20 && binary.LittleEndian.Uint32(tail[i-20:]) == 0x07064b50 {
		// Zip64: the locator points at the zip64 end record.
		var rec [56]byte
		off := int64(binary.LittleEndian.Uint64(tail[i-20+8:]))
		if off >= 0 && off < size {
			if _, err := f.ReadAt(rec[:], off); err == nil && binary.LittleEndian.Uint32(rec[:]) == 0x06064b50 {
				entries = binary.LittleEndian.Uint64(rec[32:])
				dirSize = binary.LittleEndian.Uint64(rec[40:])
			}
		}
	}
	if entries > maxZipEntries || dirSize > maxCentralDir {
		return fileError(report.ErrFileTooLarge, 0, "zip directory lists %d entries in %d bytes, more than the %d-entry cap", entries, dirSize, maxZipEntries)
	}
	return nil
}

// book is an open workbook: its parts, sheets and shared strings.
type book struct {
	parts  map[string]*zip.File
	sheets []sheetRef
	sst    *sharedStrings
	budget *unzipBudget
	opts   Options
	// sstPart and stylesPart name the shared strings and styles parts
	// ("" when the workbook has none); both are read whole by openBook.
	sstPart, stylesPart string
}

// sheetRef is a worksheet's name, relationship id and part.
type sheetRef struct {
	name, id, part string
}

// partName normalises a zip entry name for lookups: forward slashes, lower
// case, no leading slash.
func partName(name string) string {
	return strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(name, "\\", "/")), "/")
}

// openBook checks the zip's declared sizes, then reads the workbook part,
// its relationships and the shared strings.
func openBook(zr *zip.Reader, opts Options) (*book, error) {
	limit := opts.maxUnzipBytes()
	b := &book{parts: make(map[string]*zip.File, len(zr.File)), budget: &unzipBudget{left: limit}, opts: opts}
	var total uint64
	for _, zf := range zr.File {
		// Each size is checked before it is added, so the sum cannot wrap.
		if zf.UncompressedSize64 > uint64(limit) || total+zf.UncompressedSize64 > uint64(limit) {
			return nil, fileError(report.ErrFileTooLarge, 0, "workbook unpacks to more than the %d-byte cap (part %s declares %d bytes)", limit, zf.Name, zf.UncompressedSize64)
		}
		total += zf.UncompressedSize64
		name := partName(zf.Name)
		if _, dup := b.parts[name]; dup {
			return nil, fileError(report.ErrMalformedFile, 0, "zip holds part %s twice", zf.Name)
		}
		b.parts[name] = zf
	}
	if b.parts["xl/workbook.xml"] == nil {
		return nil, fileError(report.ErrUnsupportedFile, 0, "zip archive is not an .xlsx or .xlsm workbook")
	}

	rels, err := b.readRels("xl/_rels/workbook.xml.rels")
	if err != nil {
		return nil, err
	}
	if err := b.readSheets(rels); err != nil {
		return nil, err
	}
	sstPart, stylesPart := "xl/sharedstrings.xml", "xl/styles.xml"
	for _, rel := range rels {
		switch {
		case strings.HasSuffix(rel.typ, "/sharedStrings"):
			sstPart = rel.target
		case strings.HasSuffix(rel.typ, "/styles"):
			stylesPart = rel.target
		}
	}
	b.sst = &sharedStrings{tempDir: opts.TempDir}
	if zf := b.parts[sstPart]; zf != nil {
		if err := b.sst.load(b, sstPart); err != nil {
			b.close()
			return nil, err
		}
		b.sstPart = sstPart
	}
	// The styles (number formats) are not needed here but the workbook
	// library reads them whole: they are checked like the workbook part.
	if zf := b.parts[stylesPart]; zf != nil {
		if err := b.readStyles(stylesPart); err != nil {
			b.close()
			return nil, err
		}
		b.stylesPart = stylesPart
	}
	return b, nil
}

// readStyles reads the styles part whole, as strict XML of at most
// maxSmallPart bytes. Nothing of it is kept: values are read as stored,
// number formats unapplied.
func (b *book) readStyles(name string) error {
	x, err := b.openPart(name)
	if err != nil {
		return err
	}
	defer x.close()
	if err := x.each(func(xml.StartElement) {}, maxSmallPart); err != nil {
		return partError(name, 0, err)
	}
	return nil
}

func (b *book) close() {
	if b.sst != nil {
		b.sst.close()
	}
}

// openPart opens a part for streaming under the unzip budget and the
// markup-run cap.
func (b *book) openPart(name string) (*xmlStream, error) {
	zf := b.parts[name]
	if zf == nil {
		return nil, fileError(report.ErrMalformedFile, 0, "workbook part %s is missing", name)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, &FileError{Code: report.ErrMalformedFile, Err: fmt.Errorf("open part %s: %w", name, err)}
	}
	r := &runLimiter{r: &budgetReader{r: rc, b: b.budget}}
	return newXMLStream(bufio.NewReaderSize(r, 64<<10), rc), nil
}

// rel is one relationship of the workbook part.
type rel struct {
	id, typ, target string
}

// readRels reads a relationships part; targets are resolved to part names.
// A missing part gives no relationships.
func (b *book) readRels(name string) ([]rel, error) {
	if b.parts[name] == nil {
		return nil, nil
	}
	x, err := b.openPart(name)
	if err != nil {
		return nil, err
	}
	defer x.close()
	var rels []rel
	err = x.each(func(se xml.StartElement) {
		if se.Name.Local != "Relationship" || len(rels) >= maxSmallPart/64 {
			return
		}
		var r rel
		external := false
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "Id":
				r.id = a.Value
			case "Type":
				r.typ = a.Value
			case "Target":
				r.target = a.Value
			case "TargetMode":
				external = strings.EqualFold(a.Value, "External")
			}
		}
		if external || r.target == "" {
			return
		}
		t := strings.ReplaceAll(r.target, "\\", "/")
		if strings.HasPrefix(t, "/") {
			r.target = partName(path.Clean(t))
		} else {
			r.target = partName(path.Join("xl", t))
		}
		rels = append(rels, r)
	}, maxSmallPart)
	if err != nil {
		return nil, partError(name, 0, err)
	}
	return rels, nil
}

// readSheets lists the workbook's sheets in order with their parts.
func (b *book) readSheets(rels []rel) error {
	x, err := b.openPart("xl/workbook.xml")
	if err != nil {
		return err
	}
	defer x.close()
	err = x.each(func(se xml.StartElement) {
		if se.Name.Local != "sheet" {
			return
		}
		var name, id string
		for _, a := range se.Attr {
			switch {
			case a.Name.Local == "name" && a.Name.Space == "":
				name = a.Value
			case a.Name.Local == "id" && a.Name.Space != "":
				id = a.Value
			}
		}
		for _, r := range rels {
			if r.id == id && b.parts[r.target] != nil {
				b.sheets = append(b.sheets, sheetRef{name: name, id: id, part: r.target})
				return
			}
		}
	}, maxSmallPart)
	if err != nil {
		return partError("xl/workbook.xml", 0, err)
	}
	return nil
}

// pickSheet finds the upload sheet as a person would: a sheet named like
// Amazon's template sheet first, then the others in workbook order; the first
// whose rows match a known layout wins. The sheet comes back with its header
// rows read.
func (b *book) pickSheet() (*sheetSource, sheetRef, error) {
	var order []sheetRef
	for _, name := range templateSheets {
		for _, s := range b.sheets {
			if strings.EqualFold(strings.TrimSpace(s.name), name) {
				order = append(order, s)
			}
		}
	}
	for _, s := range b.sheets {
		if !containsSheet(order, s) {
			order = append(order, s)
		}
	}

	var firstErr error
	for _, ref := range order {
		x, err := b.openPart(ref.part)
		if err != nil {
			return nil, sheetRef{}, err
		}
		sh := &sheetSource{x: x, sheet: ref.name, sst: b.sst, maxRow: b.opts.maxRowBytes()}
		if _, _, err = readHeader(sh); err == nil {
			return sh, ref, nil
		}
		sh.close()
		var fe *FileError
		if errors.As(err, &fe) && fe.Code == report.ErrUnsupportedFile {
			continue
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, sheetRef{}, firstErr
	}
	names := make([]string, len(b.sheets))
	for i, s := range b.sheets {
		names[i] = s.name
	}
	return nil, sheetRef{}, fileError(report.ErrUnsupportedFile, 0, "no sheet of the workbook matches a known flat-file layout (sheets: %s)", strings.Join(names, ", "))
}

func containsSheet(list []sheetRef, s sheetRef) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// errUnzipCap is the cause when a workbook inflates past its cap.
var errUnzipCap = errors.New("workbook unpacks to more than the unzip cap")

// errXMLRun is the cause when a part holds a run of text longer than
// maxXMLRun bytes.
var errXMLRun = fmt.Errorf("more than %d bytes of XML without markup", maxXMLRun)

// errXMLDepth is the cause when elements nest deeper than maxXMLDepth.
var errXMLDepth = fmt.Errorf("XML elements nest more than %d deep", maxXMLDepth)

// partError turns an error met while reading a part into a FileError at
// row (0 when not in a sheet).
func partError(part string, row int, err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	code := report.ErrMalformedFile
	if errors.Is(err, errUnzipCap) {
		code = report.ErrFileTooLarge
	}
	return &FileError{Code: code, Row: row, Err: fmt.Errorf("read %s: %w", part, err)}
}

// unzipBudget is what is left of Options.MaxUnzipBytes.
type unzipBudget struct {
	left int64
}

// budgetReader charges the bytes it reads to a budget and fails with
// errUnzipCap when the budget runs out, whatever the zip declared.
type budgetReader struct {
	r io.Reader
	b *unzipBudget
}

// Read returns no bytes of a read that overdraws the budget, so that no
// reader above sees them.
func (r *budgetReader) Read(p []byte) (int, error) {
	if r.b.left < 0 {
		return 0, errUnzipCap
	}
	n, err := r.r.Read(p)
	r.b.left -= int64(n)
	if r.b.left < 0 {
		return 0, errUnzipCap
	}
	return n, err
}

// runLimiter fails with errXMLRun when more than maxXMLRun bytes pass
// without a '<'. The failing read returns no bytes, and so does every read
// after it: the XML decoder must meet the error before it sees the end of
// the run, or it would parse on past it.
type runLimiter struct {
	r   io.Reader
	run int
	err error
}

func (r *runLimiter) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	n, r.err = r.check(p[:n])
	if r.err != nil {
		return 0, r.err
	}
	return n, err
}

// check charges the bytes just read to the current run.
func (r *runLimiter) check(b []byte) (int, error) {
	n := len(b)
	first := bytes.IndexByte(b, '<')
	if first < 0 {
		r.run += n
	} else {
		// The run that ends at the first '<', then any run wholly inside
		// b (only possible when b is longer than the cap), then the run
		// after the last '<', which the next read continues.
		long := r.run+first > maxXMLRun
		for rest := b[first+1:]; !long && len(b) > maxXMLRun; {
			i := bytes.IndexByte(rest, '<')
			if i < 0 {
				break
			}
			long, rest = i > maxXMLRun, rest[i+1:]
		}
		if long {
			return n, errXMLRun
		}
		r.run = n - bytes.LastIndexByte(b, '<') - 1
	}
	if r.run > maxXMLRun {
		return n, errXMLRun
	}
	return n, nil
}
