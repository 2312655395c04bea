package feed

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/flatguard/flatguard/internal/report"
)

// Values are the stored ones, number formats unapplied, as the marketplace
// reads them: a numeric SKU formatted 00000 reads 42, a date formatted
// yyyy-mm-dd reads as its serial number.
func TestRead_WorkbookStoredValues(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Feed"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	skuFmt, dateFmt := "00000", "yyyy-mm-dd"
	skuStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &skuFmt})
	if err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		t.Fatal(err)
	}
	cells := []struct {
		ref   string
		value any
		style int
	}{
		{"A1", "id", 0}, {"B1", "image_link", 0}, {"C1", "availability_date", 0},
		{"A2", 42, skuStyle}, {"B2", "https://x.example/42.jpg", 0}, {"C2", 45352, dateStyle},
		// Row 3 is not stored; row 4 has a plain number.
		{"A4", 7, 0}, {"B4", "https://x.example/7.jpg", 0},
	}
	for _, c := range cells {
		if err := f.SetCellValue(sheet, c.ref, c.value); err != nil {
			t.Fatal(err)
		}
		if c.style != 0 {
			if err := f.SetCellStyle(sheet, c.ref, c.ref, c.style); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}

	type got struct {
		Num        int
		SKU, Date  string
		Cell, URL  string
		ImageCount int
	}
	var rows []got
	info, err := Read(context.Background(), bytes.NewReader(buf.Bytes()), Options{TempDir: t.TempDir()}, func(r Row) error {
		g := got{Num: r.Num, SKU: r.SKU, Date: r.Field("availability_date"), ImageCount: len(r.Images)}
		if len(r.Images) > 0 {
			g.Cell, g.URL = r.Images[0].Cell, r.Images[0].URL
		}
		rows = append(rows, g)
		return nil
	})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	want := []got{
		{Num: 2, SKU: "42", Date: "45352", Cell: "B2", URL: "https://x.example/42.jpg", ImageCount: 1},
		{Num: 4, SKU: "7", Cell: "B4", URL: "https://x.example/7.jpg", ImageCount: 1},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
	}
	if info.Format != FormatGoogleMerchant || info.Sheet != sheet || info.Rows != 2 {
		t.Errorf("Read info = %+v; want google-merchant, sheet %s, 2 rows", info, sheet)
	}
}

// printOf is the strict pass's record of a row with values in cols.
func printOf(row int, cols ...int) rowPrint {
	p := rowPrint{row: uint32(row)}
	for _, c := range cols {
		p.add(c)
	}
	return p
}

// The check of the library's rows against the strict pass's records fires
// on a value in another column, a value too many or too few, and a row
// skipped or never reached, at the row the strict pass recorded.
func TestPrintCheck(t *testing.T) {
	prints := []rowPrint{printOf(1, 0, 1), printOf(3, 2), printOf(5, 0, 4)}
	// libRow is what excelize gives for one row number, in order from 1.
	type libRow = []string
	prints = append(prints, printOf(7, 1, 2))
	all := []libRow{{"a", "b"}, nil, {"", "", "c"}, nil, {"d", "", "", "", "e"}, nil}
	tests := []struct {
		name    string
		rows    []libRow // rows 1, 2, 3 ... as the library gives them
		wantRow int      // 0: no error
	}{
		{name: "Match", rows: append(slices.Clone(all), libRow{"", "f", "g"})},
		{name: "LastValueMissing", rows: append(slices.Clone(all), libRow{"", "f"}), wantRow: 7},
		{name: "LastRowValuesLost", rows: append(slices.Clone(all), libRow{"", ""}), wantRow: 7},
		{name: "LastRowValueTooMany", rows: append(slices.Clone(all), libRow{"x", "f", "g"}), wantRow: 7},
		{name: "EmptyFormulaCellsIgnored", rows: []libRow{{"a", "b", ""}, {""}, {"", "", "c"}, nil, {"d", "", "", "", "e"}, nil, {"", "f", "g", ""}}},
		{name: "ValueInAnotherColumn", rows: []libRow{{"a", "b"}, nil, {"", "c"}}, wantRow: 3},
		{name: "ValueTooMany", rows: []libRow{{"a", "b"}, {"x"}}, wantRow: 2},
		{name: "ValueTooFew", rows: []libRow{{"a"}}, wantRow: 1},
		{name: "RowNeverReached", rows: []libRow{{"a", "b"}, nil, {"", "", "c"}}, wantRow: 5},
		{name: "LastRowNeverReached", rows: all, wantRow: 7},
		{name: "RowSkipped", rows: []libRow{{"a", "b"}, nil, nil, {"", "", "c"}}, wantRow: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := printCheck{prints: prints}
			var err error
			for i, cells := range tc.rows {
				if err = c.row(i+1, cells); err != nil {
					break
				}
			}
			if err == nil {
				err = c.end()
			}
			if tc.wantRow == 0 {
				if err != nil {
					t.Errorf("check error = %v; want nil", err)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Code != report.ErrMalformedFile || fe.Row != tc.wantRow {
				t.Errorf("check error = %v; want malformed_file at row %d", err, tc.wantRow)
			}
		})
	}
}

// The copy the library opens holds only the parts the strict pass has read
// whole: here not the theme, the document properties or the sheet that was
// not chosen.
func TestLibCopyParts(t *testing.T) {
	book := localisedBook(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "book.xlsx")
	if err := os.WriteFile(p, book, 0o600); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	b, err := openBook(&zr.Reader, Options{TempDir: dir})
	if err != nil {
		t.Fatalf("openBook error = %v; want nil", err)
	}
	defer b.close()
	i := slices.IndexFunc(b.sheets, func(s sheetRef) bool { return s.name == "Vorlage" })
	if i < 0 {
		t.Fatalf("sheets = %+v; want one named Vorlage", b.sheets)
	}
	cp, err := b.libCopy(b.sheets[i])
	if err != nil {
		t.Fatalf("libCopy error = %v; want nil", err)
	}
	defer os.Remove(cp)
	cz, err := zip.OpenReader(cp)
	if err != nil {
		t.Fatal(err)
	}
	defer cz.Close()
	var names []string
	for _, zf := range cz.File {
		names = append(names, zf.Name)
	}
	want := []string{libRootRels, libBookRels, libBookPart, libSheetPart, libSSTPart, libStylesPart}
	if b.sstPart == "" {
		want = slices.DeleteFunc(want, func(s string) bool { return s == libSSTPart })
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("libCopy parts mismatch (-want +got):\n%s", diff)
	}
	// The chosen sheet is the part copied as sheet1: its own bytes.
	src, err := b.parts[b.sheets[i].part].Open()
	if err != nil {
		t.Fatal(err)
	}
	wantBytes := readAllClose(t, src)
	dst, err := cz.Open(libSheetPart)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAllClose(t, dst); !bytes.Equal(got, wantBytes) {
		t.Errorf("copied sheet is %d bytes, not the %d of part %s", len(got), len(wantBytes), b.sheets[i].part)
	}
}

func readAllClose(t *testing.T, rc interface {
	Read([]byte) (int, error)
	Close() error
}) []byte {
	t.Helper()
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
