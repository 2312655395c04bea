package feed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flatguard/flatguard/internal/report"
)

// Format values, as CONTRACT.md's `format`.
const (
	FormatAmazonFptcustom     = "amazon-fptcustom"
	FormatAmazonTemplate      = "amazon-template"
	FormatAmazonUnified       = "amazon-unified"
	FormatAmazonListingLoader = "amazon-listing-loader"
	FormatGoogleMerchant      = "google-merchant"
	FormatShopify             = "shopify"
	FormatEbay                = "ebay"
	FormatEtsy                = "etsy"
	FormatWalmart             = "walmart"
	FormatGeneric             = "generic"
	FormatUnknown             = "unknown"
)

// Encoding values, as CONTRACT.md's `encoding`.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF8BOM     = "utf-8-bom"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
	EncodingShiftJIS    = "shift_jis"
	EncodingGBK         = "gbk"
	EncodingMacintosh   = "macintosh"
)

// Defaults for Options.
const (
	// DefaultMaxFileBytes is the file size cap when Options.MaxFileBytes is 0
	// (CONTRACT.md's MAX_FILE_BYTES).
	DefaultMaxFileBytes = 512 << 20
	// DefaultMaxRowBytes caps one text row when Options.MaxRowBytes is 0. A
	// unified template's row 1 is about 560 KB; a row past the cap is
	// malformed_file, so a file of one endless line costs bounded memory.
	DefaultMaxRowBytes = 32 << 20
)

// Options control reading. Zero values mean the documented defaults.
type Options struct {
	// Name is the file name or S3 key. Its extension is a hint only: the
	// content decides what the file is.
	Name string
	// Encoding forces a text encoding, named as in CONTRACT.md (utf-8,
	// windows-1252 ...). "" detects it: a byte-order mark, else valid UTF-8,
	// else Shift_JIS, GBK or Mac Roman on evidence, else Windows-1252. A
	// record holding bytes invalid in a forced encoding is malformed_file.
	// Workbooks ignore it.
	Encoding string
	// MaxFileBytes caps the file size; a larger file is a FileError with code
	// file_too_large. 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxUnzipBytes caps how much a workbook may unpack to, whatever its
	// size on disk: the sizes its zip declares for all its parts together,
	// and the bytes actually inflated while reading (declared sizes can
	// lie). Past it the file is file_too_large. 0 means
	// DefaultMaxUnzipBytes. Memory use does not grow with it: parts are
	// streamed.
	MaxUnzipBytes int64
	// MaxRowBytes caps one row of a text file; a longer row is a FileError
	// with code malformed_file. 0 means DefaultMaxRowBytes.
	MaxRowBytes int
	// TempDir is where a workbook read from a reader that is not an *os.File
	// is spooled, and where a workbook's shared strings go when they are
	// many. "" means os.TempDir().
	TempDir string
}

func (o Options) maxFileBytes() int64 {
	if o.MaxFileBytes <= 0 {
		return DefaultMaxFileBytes
	}
	return o.MaxFileBytes
}

func (o Options) maxUnzipBytes() int64 {
	if o.MaxUnzipBytes <= 0 {
		return DefaultMaxUnzipBytes
	}
	return o.MaxUnzipBytes
}

func (o Options) maxRowBytes() int {
	if o.MaxRowBytes <= 0 {
		return DefaultMaxRowBytes
	}
	return o.MaxRowBytes
}

// Cell is one image URL found in a cell. A cell holding several URLs gives
// several Cells with the same Row, Cell and Column.
type Cell struct {
	// Row is the row number a person sees: 1-based, header rows included.
	Row int
	// Cell is the A1 reference, e.g. "E12" or "IU7".
	Cell string
	// Column is the column name exactly as in the attribute or header row.
	Column string
	// Main is true when the column is the format's main image column.
	Main bool
	// URL is the cell text trimmed of leading and trailing whitespace; inner
	// whitespace is kept as is.
	URL string
}

// Row is one data row.
type Row struct {
	// Num is the row number a person sees.
	Num int
	// SKU is the value of the format's SKU column, "" when there is none.
	SKU string
	// Images are the non-empty image cells, in column order. The slice is
	// reused after fn returns; the Cells in it may be kept.
	Images []Cell
	// MainCell is the A1 reference of the main image column on this row,
	// "" when the format has no main image column. It lets a
	// missing_main_image finding point at the empty cell.
	MainCell string
	// NeedsMainImage is true for a listing row that must carry a main image
	// (CONTRACT.md's missing_main_image rule): an Amazon template or unified
	// row with an SKU that is not a parent, a deletion or a partial update,
	// in a layout that has a main image column (Info.MainColumn is not "").
	// Listing Loader rows are offers on existing catalog items and never
	// need one.
	NeedsMainImage bool

	src   source
	names map[string]int
}

// Field returns the decoded text of the row's cell in the column named name
// (exactly as in the attribute or header row; the first such column when
// names repeat), "" when there is no such column or cell. It is valid only
// while fn runs.
func (r Row) Field(name string) string {
	col, ok := r.names[name]
	if !ok || r.src == nil {
		return ""
	}
	return r.src.str(col)
}

// Info describes what was read.
type Info struct {
	// Format is one of the Format values.
	Format string
	// Encoding is one of the Encoding values; "utf-8" for workbooks.
	Encoding string
	// Sheet is the workbook sheet read, "" for text.
	Sheet string
	// MainColumn is the name of the main image column (main_image_url,
	// image_link ...), "" when the file has none.
	MainColumn string
	// ImageColumns names the image columns found, in column order. Empty
	// means the file has none (no_image_columns).
	ImageColumns []string
	// Rows counts the data rows seen: rows after the header with at least one
	// non-blank cell.
	Rows int
}

// FileError says why a file cannot be checked.
type FileError struct {
	// Code is report.ErrUnreadableFile, ErrUnsupportedFile, ErrFileTooLarge
	// or ErrMalformedFile.
	Code report.ErrorCode
	// Row is the row where reading stopped, 0 when not applicable.
	Row int
	// Err is the cause.
	Err error
}

// Error returns the code, the row when known, and the cause.
func (e *FileError) Error() string {
	if e.Row > 0 {
		return fmt.Sprintf("feed: %s at row %d: %v", e.Code, e.Row, e.Err)
	}
	return fmt.Sprintf("feed: %s: %v", e.Code, e.Err)
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

func fileError(code report.ErrorCode, row int, format string, args ...any) *FileError {
	return &FileError{Code: code, Row: row, Err: fmt.Errorf(format, args...)}
}

// sniffBytes is how much of the file Read looks at before deciding what it is.
const sniffBytes = 64 << 10

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// Read reads a flat file from r, calling fn once per data row in order.
//
// A workbook (zip magic) is opened directly when r is an *os.File for a
// regular file, otherwise spooled to Options.TempDir under the
// Options.MaxFileBytes cap. Text is streamed. Errors about the file are
// *FileError; an error from fn, or ctx's error when ctx ends, is returned as
// is. Info holds what was learnt up to the point of return.
func Read(ctx context.Context, r io.Reader, opts Options, fn func(Row) error) (Info, error) {
	info := Info{Format: FormatUnknown}
	limited := &capReader{r: r, left: opts.maxFileBytes()}
	br := bufio.NewReaderSize(limited, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return info, readError(err, 0)
	}
	switch {
	case len(head) == 0:
		return info, fileError(report.ErrUnreadableFile, 0, "file is empty")
	case bytes.HasPrefix(head, zipMagic):
		return readWorkbook(ctx, r, br, opts, fn)
	case bytes.HasPrefix(head, oleMagic):
		return info, fileError(report.ErrUnsupportedFile, 0, "legacy .xls workbook or other OLE2 file; save the sheet as .xlsx or tab-delimited text")
	}
	return readText(ctx, br, head, opts, fn)
}

// errTooLarge is the cause capReader gives when the file passes its cap.
var errTooLarge = errors.New("file is larger than the size cap")

// capReader fails with errTooLarge once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
	read int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// readError turns an error from the underlying reader into a FileError.
func readError(err error, row int) error {
	if errors.Is(err, errTooLarge) {
		return &FileError{Code: report.ErrFileTooLarge, Row: row, Err: err}
	}
	return &FileError{Code: report.ErrUnreadableFile, Row: row, Err: fmt.Errorf("read file: %w", err)}
}
