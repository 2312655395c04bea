package feed

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flatguard/flatguard/internal/report"
)

const (
	sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
	// googleHeader is row 1 of a Google feed: id, image_link,
	// additional_image_link.
	googleHeader = `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>image_link</t></is></c><c r="C1" t="inlineStr"><is><t>additional_image_link</t></is></c></row>`
)

// istr is an inline-string cell.
func istr(ref, v string) string {
	return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>`
}

// zipPart is one part of a hand-built workbook: its text, or a writer
// function for parts too big to hold.
type zipPart struct {
	name  string
	text  string
	write func(io.Writer) error
}

// rawBook builds a workbook around a worksheet part written by hand (and a
// shared strings part when sst is not ""), so tests can hold XML no
// workbook library would write.
func rawBook(t *testing.T, sheet zipPart, sst string) []byte {
	t.Helper()
	rels := `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`
	if sst != "" {
		rels += `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/>`
	}
	parts := []zipPart{
		{name: "[Content_Types].xml", text: `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{name: "xl/workbook.xml", text: `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Feed" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{name: "xl/_rels/workbook.xml.rels", text: `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels + `</Relationships>`},
		sheet,
	}
	if sst != "" {
		parts = append(parts, zipPart{name: "xl/sharedStrings.xml", text: sst})
	}
	return zipParts(t, parts)
}

// zipParts writes parts into a zip in memory, in order.
func zipParts(t testing.TB, parts []zipPart) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if p.write != nil {
			err = p.write(w)
		} else {
			_, err = io.WriteString(w, p.text)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetPart is a worksheet part holding rows.
func sheetPart(rows string) zipPart {
	return zipPart{name: "xl/worksheets/sheet1.xml", text: sheetHead + rows + sheetTail}
}

// Cells are read at their own references, rows the sheet does not store
// keep the numbering, and a cell without a reference follows the one before
// it.
func TestRead_WorkbookCellPlacement(t *testing.T) {
	sst := `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<si><t>S-3</t></si>` +
		`<si><r><t>https://x.example/</t></r><r><t>rich.jpg</t></r><rPh><t>ignored</t></rPh></si>` +
		`</sst>`
	rows := googleHeader +
		// Row 3: shared strings, then an inline string.
		`<row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>1</v></c><c r="C3" t="inlineStr"><is><t>https://x.example/c3.jpg</t></is></c></row>` +
		// Row 5: no references at all; a numeric SKU.
		`<row><c><v>12345</v></c><c t="inlineStr"><is><t> https://x.example/b6.jpg </t></is></c></row>` +
		// Row 9: an escaped carriage return trails the URL.
		`<row r="9">` + istr("A9", "S-9") + istr("B9", "https://x.example/b9.jpg_x000D_") + `</row>`
	book := rawBook(t, sheetPart(rows), sst)

	info, got, err := collect(bytes.NewReader(book), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	want := []rowResult{
		{Num: 3, SKU: "S-3", Cells: []Cell{
			img(3, "B3", "image_link", true, "https://x.example/rich.jpg"),
			img(3, "C3", "additional_image_link", false, "https://x.example/c3.jpg"),
		}},
		{Num: 4, SKU: "12345", Cells: []Cell{img(4, "B4", "image_link", true, "https://x.example/b6.jpg")}},
		{Num: 9, SKU: "S-9", Cells: []Cell{img(9, "B9", "image_link", true, "https://x.example/b9.jpg")}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
	}
	if info.Rows != 3 || info.Sheet != "Feed" || info.Format != FormatGoogleMerchant {
		t.Errorf("Read info = %+v; want 3 rows of sheet Feed, google-merchant", info)
	}
}

// A sheet whose XML breaks, or whose cells and rows contradict each other,
// is malformed_file at the row where reading stopped, never a shorter pass.
func TestRead_WorkbookMalformedSheet(t *testing.T) {
	row2 := `<row r="2">` + istr("A2", "S-2") + istr("B2", "https://x.example/2.jpg") + `</row>`
	tests := []struct {
		name    string
		rows    string
		wantRow int
	}{
		{name: "StrayAmpersand", rows: row2 + `<row r="3">` + istr("A3", "S3 & broken <") + `</row>`, wantRow: 3},
		{name: "UndefinedEntity", rows: `<row r="2">` + istr("A2", "&xxe;") + `</row>`, wantRow: 2},
		{name: "Truncated", rows: row2 + `<row r="3">` + istr("A3", "S-3"), wantRow: 3},
		{name: "MismatchedTags", rows: row2 + `<row r="3"><c r="A3"><v>1</c></v></row>`, wantRow: 3},
		{name: "RowBackwards", rows: `<row r="5">` + istr("B5", "https://x.example/5.jpg") + `</row><row r="3">` + istr("B3", "https://x.example/3.jpg") + `</row>`, wantRow: 3},
		{name: "RowRepeated", rows: row2 + `<row r="2">` + istr("B2", "https://x.example/again.jpg") + `</row>`, wantRow: 2},
		{name: "CellsOutOfOrder", rows: `<row r="2">` + istr("A2", "S-2") + istr("C2", "https://x.example/c.jpg") + istr("B2", "https://x.example/b.jpg") + `</row>`, wantRow: 2},
		{name: "CellTwice", rows: `<row r="2">` + istr("B2", "https://x.example/one.jpg") + istr("B2", "https://x.example/two.jpg") + `</row>`, wantRow: 2},
		{name: "CellOfAnotherRow", rows: `<row r="2">` + istr("B7", "https://x.example/7.jpg") + `</row>`, wantRow: 2},
		{name: "BadCellRef", rows: `<row r="2">` + istr("7B", "x") + `</row>`, wantRow: 2},
		{name: "PastLastRow", rows: `<row r="1048577">` + istr("A1048577", "x") + `</row>`, wantRow: 1048577},
		{name: "PastLastColumn", rows: `<row r="2">` + istr("XFE2", "x") + `</row>`, wantRow: 2},
		{name: "MissingSharedString", rows: `<row r="2"><c r="B2" t="s"><v>7</v></c></row>`, wantRow: 2},
		{name: "DeepNesting", rows: `<row r="2">` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</row>`, wantRow: 2},
		{name: "LongTextRun", rows: `<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat(" ", maxXMLRun+1) + `</t></is></c></row>`, wantRow: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			book := rawBook(t, sheetPart(googleHeader+tc.rows), "")
			_, _, err := collect(bytes.NewReader(book), Options{TempDir: t.TempDir()})
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Read error = %v; want *FileError malformed_file row %d", err, tc.wantRow)
			}
			if fe.Code != report.ErrMalformedFile || fe.Row != tc.wantRow {
				t.Errorf("Read error = %s row %d (%v); want malformed_file row %d", fe.Code, fe.Row, err, tc.wantRow)
			}
		})
	}
}

// A sheet whose bytes fail the zip checksum is malformed_file even when the
// damage lies past the rows; the strict pass reads the whole sheet before a
// row is handed out, so none is.
func TestRead_WorkbookChecksum(t *testing.T) {
	body := []byte(sheetHead + googleHeader + `<row r="2">` + istr("B2", "https://x.example/2.jpg") + `</row>` + sheetTail)
	book := rawBook(t, zipPart{name: "xl/worksheets/sheet1.xml", write: func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	}}, "")
	// Flip the last byte of the sheet's stored text: rawBook deflates it,
	// so rebuild the part stored, with the checksum of the intact text.
	var buf bytes.Buffer
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			if err := zw.Copy(zf); err != nil {
				t.Fatal(err)
			}
			continue
		}
		damaged := bytes.Clone(body)
		damaged[len(damaged)-2] = 'X' // </worksheet> becomes </worksheXt>
		w, err := zw.CreateRaw(&zip.FileHeader{Name: zf.Name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(body), CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(body))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(damaged)
	}
	zw.Close()

	_, rows, err := collect(bytes.NewReader(buf.Bytes()), Options{TempDir: t.TempDir()})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Code != report.ErrMalformedFile || fe.Row != 0 {
		t.Errorf("Read error = %v; want malformed_file without a row", err)
	}
	if len(rows) != 0 {
		t.Errorf("Read handed out %d rows before the error; want 0", len(rows))
	}
}

// A zip bomb: a sheet of 1 GiB of whitespace packs into about a megabyte.
// Its declared size is past DefaultMaxUnzipBytes, so it is refused before a
// byte is inflated; with a size the zip lies about, archive/zip stops at
// the declared size; with honest sizes under the cap, the whitespace run
// stops the XML reader.
func TestRead_WorkbookBomb(t *testing.T) {
	spaces := func(n int64) func(io.Writer) error {
		return func(w io.Writer) error {
			if _, err := io.WriteString(w, sheetHead+googleHeader); err != nil {
				return err
			}
			if _, err := io.Copy(w, &repeatReader{unit: bytes.Repeat([]byte(" "), 64<<10), n: n}); err != nil {
				return err
			}
			_, err := io.WriteString(w, sheetTail)
			return err
		}
	}
	giga := rawBook(t, zipPart{name: "xl/worksheets/sheet1.xml", write: spaces(1 << 30)}, "")
	if len(giga) > 4<<20 {
		t.Fatalf("bomb is %d bytes on disk; want a few MiB at most", len(giga))
	}

	// The same bomb with the sheet's declared size cut to 1 KiB.
	liar := bytes.Clone(giga)
	zr, err := zip.NewReader(bytes.NewReader(liar), int64(len(liar)))
	if err != nil {
		t.Fatal(err)
	}
	var lied bytes.Buffer
	zw := zip.NewWriter(&lied)
	for _, zf := range zr.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			zw.Copy(zf)
			continue
		}
		raw, err := zf.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		fh := zf.FileHeader
		fh.UncompressedSize64 = 1 << 10
		w, err := zw.CreateRaw(&fh)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, raw)
	}
	zw.Close()

	small := rawBook(t, zipPart{name: "xl/worksheets/sheet1.xml", write: spaces(8 << 20)}, "")

	tests := []struct {
		name     string
		in       []byte
		opts     Options
		wantCode report.ErrorCode
		wantRow  int
	}{
		{name: "DeclaredGigabyte", in: giga, wantCode: report.ErrFileTooLarge},
		{name: "DeclaredPastOwnCap", in: small, opts: Options{MaxUnzipBytes: 4 << 20}, wantCode: report.ErrFileTooLarge},
		// archive/zip fails as soon as it inflates past the declared 1 KiB,
		// which read-ahead does while row 1 is parsed.
		{name: "LyingSize", in: lied.Bytes(), wantCode: report.ErrMalformedFile, wantRow: 1},
		{name: "HonestUnderCap", in: small, wantCode: report.ErrMalformedFile, wantRow: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.TempDir = t.TempDir()
			_, _, err := collect(bytes.NewReader(tc.in), tc.opts)
			var fe *FileError
			if !errors.As(err, &fe) || fe.Code != tc.wantCode || fe.Row != tc.wantRow {
				t.Errorf("Read error = %v; want %s row %d", err, tc.wantCode, tc.wantRow)
			}
		})
	}
}

// budgetReader stops at its budget whatever the reader under it yields.
func TestBudgetReader(t *testing.T) {
	b := &unzipBudget{left: 1000}
	n, err := io.Copy(io.Discard, &budgetReader{r: &repeatReader{unit: []byte("x"), n: 1 << 20}, b: b})
	if !errors.Is(err, errUnzipCap) || n > 1000+32<<10 {
		t.Errorf("io.Copy through budgetReader = %d, %v; want at most one read past 1000 bytes, errUnzipCap", n, err)
	}
}

func TestParseCellRef(t *testing.T) {
	tests := []struct {
		ref           string
		wantCol, wRow int
		wantOK        bool
	}{
		{"A1", 0, 1, true},
		{"b12", 1, 12, true},
		{"IU7", 254, 7, true},
		{"XFD1048576", 16383, 1048576, true},
		{"7B", 0, 0, false},
		{"B", 0, 0, false},
		{"B1x", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		col, row, ok := parseCellRef(tc.ref)
		if col != tc.wantCol || row != tc.wRow || ok != tc.wantOK {
			t.Errorf("parseCellRef(%q) = %d, %d, %t; want %d, %d, %t", tc.ref, col, row, ok, tc.wantCol, tc.wRow, tc.wantOK)
		}
	}
}

// A multi-URL cell hands out each distinct URL once, in its first place.
func TestRead_MultiURLCellDuplicates(t *testing.T) {
	many := make([]string, 0, 40)
	for i := range 20 {
		u := "https://x.example/m" + string(rune('a'+i)) + ".jpg"
		many = append(many, u, u)
	}
	tests := []struct {
		name string
		in   string
		want []Cell
	}{
		{
			name: "GoogleCommas",
			in:   "id\timage_link\tadditional_image_link\nA\thttps://x.example/a.jpg\thttps://x.example/a.jpg,https://x.example/a.jpg, https://x.example/b.jpg ,,https://x.example/a.jpg\n",
			want: []Cell{
				img(2, "B2", "image_link", true, "https://x.example/a.jpg"),
				img(2, "C2", "additional_image_link", false, "https://x.example/a.jpg"),
				img(2, "C2", "additional_image_link", false, "https://x.example/b.jpg"),
			},
		},
		{
			name: "EbayPipes",
			in:   "Action\tCustomLabel\tPicURL\nAdd\tE1\thttps://x.example/a.jpg|https://x.example/a.jpg|https://x.example/b.jpg|\n",
			want: []Cell{
				img(2, "C2", "PicURL", true, "https://x.example/a.jpg"),
				img(2, "C2", "PicURL", true, "https://x.example/b.jpg"),
			},
		},
	}
	manyWant := []Cell{}
	for i := 0; i < len(many); i += 2 {
		manyWant = append(manyWant, img(2, "C2", "additional_image_link", false, many[i]))
	}
	tests = append(tests, struct {
		name string
		in   string
		want []Cell
	}{name: "ManyURLs", in: "id\timage_link\tadditional_image_link\nA\t\t" + strings.Join(many, ",") + "\n", want: manyWant})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Cell
			_, err := Read(context.Background(), strings.NewReader(tc.in), Options{}, func(r Row) error {
				got = append(got, r.Images...)
				return nil
			})
			if err != nil {
				t.Fatalf("Read error = %v; want nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read cells mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A NUL byte is malformed_file at its row, near the start of the file or
// far into it; binary data stays unsupported_file.
func TestRead_NULByte(t *testing.T) {
	filler := strings.Repeat("B\thttps://x.example/b.jpg\n", 1500)
	tests := []struct {
		name     string
		in       string
		wantCode report.ErrorCode
		wantRow  int
	}{
		{name: "Early", in: "id\timage_link\nA\thttps://x.example/a\x00.jpg\n", wantCode: report.ErrMalformedFile, wantRow: 2},
		{name: "Late", in: "id\timage_link\n" + filler + "C\thttps://x.example/c\x00.jpg\n", wantCode: report.ErrMalformedFile, wantRow: 1502},
		{name: "Quoted", in: "id,image_link\nA,\"https://x.example/\x00a.jpg\"\n", wantCode: report.ErrMalformedFile, wantRow: 2},
		{name: "Binary", in: "id\timage_link\n" + strings.Repeat("\x00\x01\x02\x03", 64), wantCode: report.ErrUnsupportedFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(context.Background(), strings.NewReader(tc.in), Options{}, func(Row) error { return nil })
			var fe *FileError
			if !errors.As(err, &fe) || fe.Code != tc.wantCode || fe.Row != tc.wantRow {
				t.Errorf("Read error = %v; want %s row %d", err, tc.wantCode, tc.wantRow)
			}
		})
	}
}
