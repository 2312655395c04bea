package feed

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/xuri/excelize/v2"

	"github.com/flatguard/flatguard/internal/report"
)

// makeWorkbook writes a workbook with the given sheets (name -> cell -> value)
// in order and returns its bytes.
func makeWorkbook(t *testing.T, sheets []string, cells map[string]map[string]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for ref, v := range cells[name] {
			if err := f.SetCellStr(name, ref, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// localisedBook has an instructions sheet first and a German template sheet
// whose rows 4 and 6 are not stored at all.
func localisedBook(t *testing.T) []byte {
	return makeWorkbook(t, []string{"Anleitung", "Vorlage"}, map[string]map[string]string{
		"Anleitung": {"A1": "Bitte füllen Sie die Vorlage aus", "C2": "main_image_url"},
		"Vorlage": {
			"A1": "TemplateType=fptcustom", "B1": "Version=2021.0101",
			"A2": "Produkttyp", "B2": "Händler-SKU", "C2": "Hauptbild",
			"A3": "feed_product_type", "B3": "item_sku", "C3": "main_image_url", "IU3": "other_image_url1",
			"A5": "health", "B5": "DE-1", "C5": "  https://x.example/de-1.jpg ",
			"A7": "health", "B7": "DE-2", "IU7": "https://x.example/de-2.jpg",
		},
	})
}

var localisedRows = []rowResult{
	{Num: 5, SKU: "DE-1", Needs: true, Cells: []Cell{img(5, "C5", "main_image_url", true, "https://x.example/de-1.jpg")}},
	{Num: 7, SKU: "DE-2", Needs: true, Cells: []Cell{img(7, "IU7", "other_image_url1", false, "https://x.example/de-2.jpg")}},
}

func TestRead_Workbook(t *testing.T) {
	book := localisedBook(t)
	wantInfo := Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, Sheet: "Vorlage", MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 2}

	t.Run("Spooled", func(t *testing.T) {
		dir := t.TempDir()
		info, rows, err := collect(bytes.NewReader(book), Options{TempDir: dir})
		if err != nil {
			t.Fatalf("Read error = %v; want nil", err)
		}
		if diff := cmp.Diff(wantInfo, info); diff != "" {
			t.Errorf("Read info mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(localisedRows, rows, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("TempDir holds %d entries after Read; want 0", len(left))
		}
	})

	t.Run("File", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "feed.xlsx")
		if err := os.WriteFile(path, book, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, rows, err := collect(f, Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatalf("Read error = %v; want nil", err)
		}
		if diff := cmp.Diff(wantInfo, info); diff != "" {
			t.Errorf("Read info mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(localisedRows, rows, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestRead_WorkbookErrors(t *testing.T) {
	var plainZip bytes.Buffer
	zw := zip.NewWriter(&plainZip)
	w, _ := zw.Create("feed.txt")
	w.Write([]byte(fptHeader))
	zw.Close()

	// A zip bomb: 16 MiB of zeros pack into a few KiB.
	var bomb bytes.Buffer
	zw = zip.NewWriter(&bomb)
	w, _ = zw.Create("xl/workbook.xml")
	w.Write([]byte("<workbook/>"))
	w, _ = zw.Create("xl/media/image1.png")
	w.Write(make([]byte, 16<<20))
	zw.Close()

	noLayoutBook := makeWorkbook(t, []string{"Sheet1"}, map[string]map[string]string{"Sheet1": {"A1": "hello"}})
	book := localisedBook(t)

	tests := []struct {
		name     string
		in       []byte
		opts     Options
		wantCode report.ErrorCode
	}{
		{name: "ZipNotWorkbook", in: plainZip.Bytes(), wantCode: report.ErrUnsupportedFile},
		{name: "NoLayout", in: noLayoutBook, wantCode: report.ErrUnsupportedFile},
		{name: "Truncated", in: book[:len(book)/2], wantCode: report.ErrMalformedFile},
		{name: "TooLarge", in: book, opts: Options{MaxFileBytes: int64(len(book)) - 1}, wantCode: report.ErrFileTooLarge},
		{name: "UnpacksTooLarge", in: bomb.Bytes(), opts: Options{MaxUnzipBytes: 8 << 20}, wantCode: report.ErrFileTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.TempDir = t.TempDir()
			_, err := Read(context.Background(), bytes.NewReader(tc.in), tc.opts, func(Row) error { return nil })
			var fe *FileError
			if !errors.As(err, &fe) || fe.Code != tc.wantCode {
				t.Errorf("Read error = %v; want *FileError %s", err, tc.wantCode)
			}
		})
	}
}
