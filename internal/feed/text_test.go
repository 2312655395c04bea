package feed

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flatguard/flatguard/internal/report"
)

// fptHeader is a small fptcustom header: rows 1-3.
const fptHeader = "TemplateType=fptcustom\tVersion=2020.0101\n" +
	"Product Type\tSeller SKU\tMain Image URL\tOther Image URL1\tParentage\tUpdate Delete\tDescription\n" +
	"feed_product_type\titem_sku\tmain_image_url\tother_image_url1\tparent_child\tupdate_delete\tproduct_description\n"

func img(row int, ref, col string, main bool, url string) Cell {
	return Cell{Row: row, Cell: ref, Column: col, Main: main, URL: url}
}

var smallColumns = []string{"main_image_url", "other_image_url1"}

func TestRead_Text(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		opts     Options
		wantInfo Info
		wantRows []rowResult
	}{
		{
			name:     "LF",
			in:       fptHeader + "T\tA-1\thttps://x.example/a.jpg\thttps://x.example/b.jpg\tChild\tUpdate\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "A-1", Needs: true, Cells: []Cell{
				img(4, "C4", "main_image_url", true, "https://x.example/a.jpg"),
				img(4, "D4", "other_image_url1", false, "https://x.example/b.jpg"),
			}}},
		},
		{
			name:     "CRLFNoFinalNewline",
			in:       strings.ReplaceAll(fptHeader, "\n", "\r\n") + "T\tA-1\thttps://x.example/a.jpg\r\nT\tA-2\t\thttps://x.example/c.jpg",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 2},
			wantRows: []rowResult{
				{Num: 4, SKU: "A-1", Needs: true, Cells: []Cell{img(4, "C4", "main_image_url", true, "https://x.example/a.jpg")}},
				{Num: 5, SKU: "A-2", Needs: true, Cells: []Cell{img(5, "D5", "other_image_url1", false, "https://x.example/c.jpg")}},
			},
		},
		{
			name:     "CROnly",
			in:       strings.ReplaceAll(fptHeader, "\n", "\r") + "T\tA-1\thttps://x.example/a.jpg\r",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "A-1", Needs: true, Cells: []Cell{img(4, "C4", "main_image_url", true, "https://x.example/a.jpg")}}},
		},
		{
			name: "QuotedCellSpanningLines",
			in: fptHeader +
				"T\tA-1\t\"https://x.example/a.jpg\"\t\t\t\t\"line one\r\nline \"\"two\"\"\tand a tab\"\r\n" +
				"T\t\"A-\"\"2\"\"\"\thttps://x.example/b.jpg\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 2},
			wantRows: []rowResult{
				{Num: 4, SKU: "A-1", Needs: true, Cells: []Cell{img(4, "C4", "main_image_url", true, "https://x.example/a.jpg")}},
				{Num: 5, SKU: `A-"2"`, Needs: true, Cells: []Cell{img(5, "C5", "main_image_url", true, "https://x.example/b.jpg")}},
			},
		},
		{
			name:     "BlankLinesCount",
			in:       fptHeader + "\nT\tA-1\thttps://x.example/a.jpg\n\n\t\t \t\nT\tA-2\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 2},
			wantRows: []rowResult{
				{Num: 5, SKU: "A-1", Needs: true, Cells: []Cell{img(5, "C5", "main_image_url", true, "https://x.example/a.jpg")}},
				{Num: 8, SKU: "A-2", Needs: true},
			},
		},
		{
			name:     "RaggedAndPadded",
			in:       fptHeader + "T\n\t  A-1 \t  https://x.example/a b.jpg\t \t\t\t\t\textra\textra\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 2},
			wantRows: []rowResult{
				{Num: 4},
				{Num: 5, SKU: "A-1", Needs: true, Cells: []Cell{img(5, "C5", "main_image_url", true, "https://x.example/a b.jpg")}},
			},
		},
		{
			name: "ParentDeletePartial",
			in: fptHeader +
				"T\tP\t\t\tparent\tUpdate\n" +
				"T\tD\t\t\tChild\tDelete\n" +
				"T\tU\t\t\tChild\tPartialUpdate\n" +
				"T\t\t\t\tChild\tUpdate\n" +
				"T\tC\t\t\t\t\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 5},
			wantRows: []rowResult{
				{Num: 4, SKU: "P"}, {Num: 5, SKU: "D"}, {Num: 6, SKU: "U"}, {Num: 7}, {Num: 8, SKU: "C", Needs: true},
			},
		},
		{
			name: "VeryOldColumns",
			in: "TemplateType=Clothing\tVersion=1.4\n" +
				"SKU\tMain\tOther 1\tOther 8\tSwatch\n" +
				"sku\tMainImageUrl\tOtherImageUrl1\tOtherImageUrl8\tSwatchImageUrl\n" +
				"C-1\thttps://x.example/m.jpg\thttps://x.example/o1.jpg\thttps://x.example/o8.jpg\thttps://x.example/s.jpg\n",
			wantInfo: Info{Format: FormatAmazonTemplate, Encoding: EncodingUTF8, Rows: 1, MainColumn: "MainImageUrl", ImageColumns: []string{
				"MainImageUrl", "OtherImageUrl1", "OtherImageUrl8", "SwatchImageUrl",
			}},
			wantRows: []rowResult{{Num: 4, SKU: "C-1", Needs: true, Cells: []Cell{
				img(4, "B4", "MainImageUrl", true, "https://x.example/m.jpg"),
				img(4, "C4", "OtherImageUrl1", false, "https://x.example/o1.jpg"),
				img(4, "D4", "OtherImageUrl8", false, "https://x.example/o8.jpg"),
				img(4, "E4", "SwatchImageUrl", false, "https://x.example/s.jpg"),
			}}},
		},
		{
			name:     "HeaderOnly",
			in:       fptHeader,
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns},
		},
		{
			name:     "NoImageColumns",
			in:       "TemplateType=PriceInventory\nlabels\nsku\tprice\tquantity\nA-1\t1.00\t3\n",
			wantInfo: Info{Format: FormatAmazonTemplate, Encoding: EncodingUTF8, ImageColumns: []string{}, Rows: 1},
			// No main image column: no row can carry one, so none needs it.
			wantRows: []rowResult{{Num: 4, SKU: "A-1", Needs: false}},
		},
		{
			name:     "UTF8BOM",
			in:       "\xEF\xBB\xBF" + fptHeader + "T\tÄ-1\thttps://x.example/ä.jpg\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8BOM, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "Ä-1", Needs: true, Cells: []Cell{img(4, "C4", "main_image_url", true, "https://x.example/ä.jpg")}}},
		},
		{
			name:     "UTF8",
			in:       fptHeader + "T\tÄ-1\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "Ä-1", Needs: true}},
		},
		{
			name:     "Windows1252",
			in:       fptHeader + "T\tA\x96\x80\xE9\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingWindows1252, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "A–€é", Needs: true}},
		},
		{
			name:     "ForcedEncoding",
			in:       fptHeader + "T\tA\xC3\xA9\n",
			opts:     Options{Encoding: "windows-1252"},
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingWindows1252, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "AÃ©", Needs: true}},
		},
		{
			name:     "UTF16LE",
			in:       utf16LE("\uFEFF" + fptHeader + "T\tÄ-1\thttps://x.example/a.jpg\r\n"),
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF16LE, MainColumn: "main_image_url", ImageColumns: smallColumns, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "Ä-1", Needs: true, Cells: []Cell{img(4, "C4", "main_image_url", true, "https://x.example/a.jpg")}}},
		},
		{
			name: "UnifiedSettingsSplit",
			in: "settings=feedType=1&labelRow=2&attr\tsettings2=ibuteRow=3&dataRow=%35&x=y\n" +
				"SKU\tAction\tParentage\tImage\tOther\n" +
				"contribution_sku#1.value\t::record_action\tparentage_level[marketplace_id=A]#1.value\tmain_product_image_locator[marketplace_id=A]#1.media_location\tother_product_image_locator_1[marketplace_id=A]#1.media_location\n" +
				"EXAMPLE\tCreate or Replace (Full Update)\t\thttps://x.example/example.jpg\n" +
				"S-1\tCreate or Replace (Full Update)\tChild\thttps://x.example/1.jpg\thttps://x.example/2.jpg\n" +
				"S-2\tCreate or Replace (Full Update)\tParent\n" +
				"S-3\tEdit (Partial Update)\n" +
				"S-4\tDelete\n" +
				"S-5\n",
			wantInfo: Info{Format: FormatAmazonUnified, Encoding: EncodingUTF8, Rows: 5, MainColumn: "main_product_image_locator[marketplace_id=A]#1.media_location", ImageColumns: []string{
				"main_product_image_locator[marketplace_id=A]#1.media_location",
				"other_product_image_locator_1[marketplace_id=A]#1.media_location",
			}},
			wantRows: []rowResult{
				{Num: 5, SKU: "S-1", Needs: true, Cells: []Cell{
					img(5, "D5", "main_product_image_locator[marketplace_id=A]#1.media_location", true, "https://x.example/1.jpg"),
					img(5, "E5", "other_product_image_locator_1[marketplace_id=A]#1.media_location", false, "https://x.example/2.jpg"),
				}},
				{Num: 6, SKU: "S-2"}, {Num: 7, SKU: "S-3"}, {Num: 8, SKU: "S-4"}, {Num: 9, SKU: "S-5", Needs: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, rows, err := collect(strings.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatalf("Read error = %v; want nil", err)
			}
			if diff := cmp.Diff(tc.wantInfo, info, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Read info mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRows, rows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func utf16LE(s string) string {
	var b bytes.Buffer
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

// failingReader returns its data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestRead_Errors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name     string
		in       io.Reader
		opts     Options
		wantCode report.ErrorCode
		wantRow  int
	}{
		{name: "Empty", in: strings.NewReader(""), wantCode: report.ErrUnreadableFile},
		{name: "ReaderFails", in: &failingReader{data: fptHeader, err: errDisk}, wantCode: report.ErrUnreadableFile},
		{name: "ReaderFailsLater", in: &failingReader{data: fptHeader + strings.Repeat("T\tA\n", 40000), err: errDisk}, wantCode: report.ErrUnreadableFile, wantRow: 40004},
		{name: "Binary", in: strings.NewReader("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), wantCode: report.ErrUnsupportedFile},
		{name: "LegacyXLS", in: strings.NewReader("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), wantCode: report.ErrUnsupportedFile},
		{name: "UnknownHeader", in: strings.NewReader("hello\tworld\n1\t2\n"), wantCode: report.ErrUnsupportedFile},
		{name: "OnlyBOM", in: strings.NewReader("\xEF\xBB\xBF"), wantCode: report.ErrUnsupportedFile},
		{name: "MissingAttributeRow", in: strings.NewReader("TemplateType=fptcustom\tVersion=1\nlabels\n"), wantCode: report.ErrMalformedFile, wantRow: 2},
		{name: "UnifiedWithoutDataRow", in: strings.NewReader("settings=labelRow=4&attributeRow=5\n"), wantCode: report.ErrMalformedFile, wantRow: 1},
		{name: "UnifiedBadRow", in: strings.NewReader("settings=attributeRow=5&dataRow=99999\n"), wantCode: report.ErrMalformedFile, wantRow: 1},
		{name: "UnterminatedQuote", in: strings.NewReader(fptHeader + "T\tA-1\n\"T\tA-2\nT\tA-3\n"), wantCode: report.ErrMalformedFile, wantRow: 5},
		{name: "RowTooLong", in: strings.NewReader(fptHeader + "T\t" + strings.Repeat("x", 5000) + "\n"), opts: Options{MaxRowBytes: 4096}, wantCode: report.ErrMalformedFile, wantRow: 4},
		{name: "QuotedRowTooLong", in: strings.NewReader(fptHeader + "T\t\"" + strings.Repeat("x\n", 5000) + "\"\n"), opts: Options{MaxRowBytes: 4096}, wantCode: report.ErrMalformedFile, wantRow: 4},
		{name: "TooLarge", in: strings.NewReader(fptHeader + "T\tA-1\n"), opts: Options{MaxFileBytes: 100}, wantCode: report.ErrFileTooLarge},
		{name: "UnknownEncodingIsNotAFileError", in: strings.NewReader(fptHeader), opts: Options{Encoding: "ebcdic"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(context.Background(), tc.in, tc.opts, func(Row) error { return nil })
			var fe *FileError
			isFileErr := errors.As(err, &fe)
			if tc.wantCode == "" {
				if err == nil || isFileErr {
					t.Fatalf("Read error = %v; want a plain error", err)
				}
				return
			}
			if !isFileErr {
				t.Fatalf("Read error = %v; want *FileError %s", err, tc.wantCode)
			}
			if fe.Code != tc.wantCode || fe.Row != tc.wantRow {
				t.Errorf("Read error = %s row %d (%v); want %s row %d", fe.Code, fe.Row, err, tc.wantCode, tc.wantRow)
			}
		})
	}
}

// endless is a reader of one line that never ends.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// A file of one endless line stops at the row cap with malformed_file after
// reading little more than the cap, instead of growing without bound.
func TestRead_EndlessLine(t *testing.T) {
	r := &endless{}
	_, err := Read(context.Background(), io.MultiReader(strings.NewReader(fptHeader), r), Options{MaxFileBytes: 1 << 40}, func(Row) error { return nil })
	var fe *FileError
	if !errors.As(err, &fe) || fe.Code != report.ErrMalformedFile || fe.Row != 4 || !errors.Is(err, errRowTooLong) {
		t.Fatalf("Read error = %v; want malformed_file at row 4 (row too long)", err)
	}
	if r.n > 2*DefaultMaxRowBytes {
		t.Errorf("Read consumed %d bytes of the endless line; want at most %d", r.n, 2*DefaultMaxRowBytes)
	}
}

func TestRead_CallbackAndContext(t *testing.T) {
	errStop := errors.New("stop")
	in := fptHeader + "T\tA-1\nT\tA-2\n"
	_, err := Read(context.Background(), strings.NewReader(in), Options{}, func(Row) error { return errStop })
	if err != errStop {
		t.Errorf("Read with failing fn error = %v; want %v as is", err, errStop)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Read(ctx, strings.NewReader(in), Options{}, func(Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Read with cancelled context error = %v; want %v", err, context.Canceled)
	}
}

func TestCellRef(t *testing.T) {
	tests := []struct {
		col, row int
		want     string
	}{
		{0, 1, "A1"}, {4, 12, "E12"}, {25, 3, "Z3"}, {26, 3, "AA3"}, {254, 7, "IU7"},
		{701, 10, "ZZ10"}, {702, 100000, "AAA100000"}, {16383, 1048576, "XFD1048576"},
	}
	for _, tc := range tests {
		if got := cellRef(tc.col, tc.row); got != tc.want {
			t.Errorf("cellRef(%d, %d) = %q; want %q", tc.col, tc.row, got, tc.want)
		}
	}
}

func TestFileError(t *testing.T) {
	cause := errors.New("boom")
	err := &FileError{Code: report.ErrMalformedFile, Row: 7, Err: cause}
	if got, want := err.Error(), "feed: malformed_file at row 7: boom"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false; want true", err)
	}
}

// chunkReader hands out at most n bytes per Read, like a network body.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// A long quoted row read in small chunks gives the same result as at once.
func TestRead_SmallChunks(t *testing.T) {
	long := strings.Repeat("word\t\"\"x\"\"\n", 100000)
	in := fptHeader + "T\tA-1\thttps://x.example/a.jpg\t\t\t\t\"" + long + "\"\nT\tA-2\thttps://x.example/b.jpg\n"
	want := []rowResult{
		{Num: 4, SKU: "A-1", Needs: true, Cells: []Cell{img(4, "C4", "main_image_url", true, "https://x.example/a.jpg")}},
		{Num: 5, SKU: "A-2", Needs: true, Cells: []Cell{img(5, "C5", "main_image_url", true, "https://x.example/b.jpg")}},
	}
	var desc string
	rows := 0
	var got []rowResult
	_, err := Read(context.Background(), &chunkReader{r: strings.NewReader(in), n: 1000}, Options{}, func(r Row) error {
		rows++
		if r.Num == 4 {
			desc = r.Field("product_description")
		}
		got = append(got, rowResult{Num: r.Num, SKU: r.SKU, Needs: r.NeedsMainImage, Cells: append([]Cell(nil), r.Images...)})
		return nil
	})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
	}
	if wantDesc := strings.ReplaceAll(long, `""`, `"`); desc != wantDesc {
		t.Errorf("Field(product_description) has %d bytes; want %d", len(desc), len(wantDesc))
	}
}
