package feed

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/flatguard/flatguard/internal/report"
)

// repeatReader yields unit over and over, n bytes in all, without ever
// holding more than one unit.
type repeatReader struct {
	unit []byte
	n    int64
	pos  int
	read int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.unit[r.pos:])
		if int64(c) > r.n {
			c = int(r.n)
		}
		k += c
		r.n -= int64(c)
		r.pos = (r.pos + c) % len(r.unit)
	}
	r.read += int64(k)
	return k, nil
}

// bombBook is a workbook whose sheet claims to unpack to size bytes while
// the zip holds a few bytes: the declared size is what a zip bomb shows.
func bombBook(t *testing.T, size uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("xl/workbook.xml")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("<workbook/>"))
	body := []byte("<worksheet/>")
	raw, err := zw.CreateRaw(&zip.FileHeader{
		Name:               "xl/worksheets/sheet1.xml",
		Method:             zip.Store,
		CRC32:              crc32.ChecksumIEEE(body),
		CompressedSize64:   uint64(len(body)),
		UncompressedSize64: size,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRead_Hostile feeds files built to hurt: each must end in its
// FileError code and row, reading a bounded amount.
func TestRead_Hostile(t *testing.T) {
	manyColumns := func(n int) string { return strings.Repeat("x\t", n) }
	tests := []struct {
		name     string
		in       io.Reader
		opts     Options
		wantCode report.ErrorCode
		wantRow  int
	}{
		{name: "Empty", in: strings.NewReader(""), wantCode: report.ErrUnreadableFile},
		{name: "Binary", in: bytes.NewReader(append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 4096)...)), wantCode: report.ErrUnsupportedFile},
		{name: "NoHeader", in: strings.NewReader("1,2,3\n4,5,6\n"), wantCode: report.ErrUnsupportedFile},
		{name: "WorkbookClaimsGigabytes", in: bytes.NewReader(bombBook(t, 6<<30)), wantCode: report.ErrFileTooLarge},
		{name: "MillionsOfColumnsInHeader", in: strings.NewReader("image_link\t" + manyColumns(2_000_000) + "\n"), wantCode: report.ErrMalformedFile, wantRow: 1},
		{name: "MillionsOfColumnsInRow", in: strings.NewReader("id\timage_link\nA\thttps://x.example/a.jpg\n" + manyColumns(1_000_000) + "\n"), wantCode: report.ErrMalformedFile, wantRow: 3},
		{name: "MillionsOfQuotedColumns", in: strings.NewReader("id,image_link\n" + strings.Repeat(`"x",`, 1_000_000) + "\n"), wantCode: report.ErrMalformedFile, wantRow: 2},
		{name: "ForcedUTF8InvalidBytes", in: strings.NewReader("id\timage_link\nA\thttps://x.example/a.jpg\nB\tcaf\xe9\n"), opts: Options{Encoding: "utf-8"}, wantCode: report.ErrMalformedFile, wantRow: 3},
		{name: "ForcedShiftJISInvalidBytes", in: strings.NewReader(fptHeader + "T\t\x93\xfa\n" + "T\t\x81\x20\n"), opts: Options{Encoding: "shift_jis"}, wantCode: report.ErrMalformedFile, wantRow: 5},
		{name: "ForcedGBKInvalidQuotedRow", in: strings.NewReader("id,image_link\nA,\"\xd6\xd0\"\nB,\"\xff\"\n"), opts: Options{Encoding: "gbk"}, wantCode: report.ErrMalformedFile, wantRow: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.TempDir = t.TempDir()
			_, err := Read(context.Background(), tc.in, tc.opts, func(Row) error { return nil })
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Read error = %v; want *FileError %s", err, tc.wantCode)
			}
			if fe.Code != tc.wantCode || fe.Row != tc.wantRow {
				t.Errorf("Read error = %s row %d (%v); want %s row %d", fe.Code, fe.Row, err, tc.wantCode, tc.wantRow)
			}
		})
	}
}

// A 1 GB file of one line, made by a generator and never held whole, stops
// at the row cap after reading little more than the cap.
func TestRead_GigabyteLine(t *testing.T) {
	r := &repeatReader{unit: []byte("https://x.example/a.jpg,"), n: 1 << 30}
	_, err := Read(context.Background(), io.MultiReader(strings.NewReader("id,image_link\n"), r), Options{MaxFileBytes: 2 << 30}, func(Row) error { return nil })
	var fe *FileError
	if !errors.As(err, &fe) || fe.Code != report.ErrMalformedFile || fe.Row != 2 {
		t.Fatalf("Read error = %v; want malformed_file at row 2", err)
	}
	if r.read > 2*DefaultMaxRowBytes {
		t.Errorf("Read consumed %d bytes of the 1 GB line; want at most %d", r.read, 2*DefaultMaxRowBytes)
	}
}

// A file of only a header row is fine: no rows, nothing to report.
func TestRead_HeaderOnly(t *testing.T) {
	for _, in := range []string{"id\ttitle\timage_link\n", "Handle,Title,Image Src\r\n", fptHeader} {
		info, rows, err := collect(strings.NewReader(in), Options{})
		if err != nil || info.Rows != 0 || len(rows) != 0 || len(info.ImageColumns) == 0 {
			t.Errorf("Read(%q) = %+v, %d rows, %v; want no rows, image columns, nil", in, info, len(rows), err)
		}
	}
}

func TestSniffDelim(t *testing.T) {
	tests := []struct {
		name string
		head string
		want byte
	}{
		{"Tab", "a\tb\tc\n1,2\t3\n", '\t'},
		{"Comma", "a,b,c\n", ','},
		{"Semicolon", "a;b;c\n", ';'},
		{"QuotedDelimitersIgnored", "\"a\tb\",c,d\n", ','},
		{"FirstLineWithoutDelimiter", "title\na,b\n", ','},
		{"TieIsTab", "a\tb,c\n", '\t'},
		{"None", "abc\n", '\t'},
	}
	for _, tc := range tests {
		if got := sniffDelim([]byte(tc.head), '\n'); got != tc.want {
			t.Errorf("%s: sniffDelim(%q) = %q; want %q", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestGuessLegacy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ShiftJIS", "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x8f\xa4\x95\x69", EncodingShiftJIS},
		{"GBK", "\xd6\xd0\xce\xc4\xc9\xcc\xc6\xb7", EncodingGBK},
		{"GB18030FourByte", "\xd6\xd0\x81\x30\x81\x30\xce\xc4", EncodingGBK},
		{"MacRoman", "Caf\x8e M\x9fller Gr\x9a\xa7e", EncodingMacintosh},
		{"Windows1252", "Caf\xe9 M\xfcller Gr\xf6\xdfe \x80", EncodingWindows1252},
		{"Windows1252LonePair", "Gr\xf6\xdfe", EncodingWindows1252},
		{"Windows1252Punctuation", "tablets \x96 9,99 \x80", EncodingWindows1252},
	}
	for _, tc := range tests {
		if got := guessLegacy([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: guessLegacy(%q) = %q; want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
