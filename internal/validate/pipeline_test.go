package validate

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flatguard/flatguard/internal/report"
)

// testClock is the fixed time of these tests: after the test links expired.
var testClock = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

// spot is where a finding points a seller.
type spot struct {
	Code   report.Code
	Row    int
	Cell   string
	SKU    string
	Column string
}

func spots(fs []report.Finding) []spot {
	out := make([]spot, 0, len(fs))
	for _, f := range fs {
		out = append(out, spot{f.Code, f.Row, f.Cell, f.SKU, f.Column})
	}
	return out
}

// runOffline checks body with an offline pipeline.
func runOffline(t *testing.T, name string, body io.Reader, cfg Config) *report.Report {
	t.Helper()
	cfg.Offline = true
	p := New(cfg, WithClock(testClock), WithTempDir(t.TempDir()))
	defer p.Close()
	rep, err := p.Run(context.Background(), Input{Name: name, Body: body})
	if err != nil {
		t.Fatalf("Run(%s) error = %v; want nil", name, err)
	}
	return rep
}

// TestRun_Formats runs the feed package's test files of every format
// through the offline pipeline and checks the findings and counts.
func TestRun_Formats(t *testing.T) {
	const fpt = `TemplateType=fptcustom	Version=2020.0101
Product Type	Seller SKU	Main Image URL	Other Image URL1	Parentage
feed_product_type	item_sku	main_image_url	other_image_url1	parent_child
T	A-1	https://x.example/a.jpg
T	A-2		https://x.example/b.jpg
T	A-3		https://x.example/a.jpg	parent
T	A-4	https://x.example/a.jpg	https://x.example/a.jpg
`
	tests := []struct {
		name       string
		file       string
		body       string
		wantFormat string
		wantStatus report.Status
		wantSpots  []spot
		wantSum    report.Summary
	}{
		{
			name: "FptcustomMissingMainImage", file: "feed.txt", body: fpt,
			wantFormat: "amazon-fptcustom", wantStatus: report.StatusPass,
			wantSpots: []spot{{report.CodeMissingMainImage, 5, "C5", "A-2", "main_image_url"}},
			wantSum:   report.Summary{Rows: 4, ImageCells: 5, UniqueURLs: 2, NotChecked: 2, Warnings: 1, ByCode: map[report.Code]int{report.CodeMissingMainImage: 1}},
		},
		{
			name: "PriceQuantity", file: "../feed/testdata/price_quantity.txt",
			wantFormat: "generic", wantStatus: report.StatusPass,
			wantSpots: []spot{{report.CodeNoImageColumns, 0, "", "", ""}},
			wantSum:   report.Summary{Rows: 2, Warnings: 1, ByCode: map[report.Code]int{report.CodeNoImageColumns: 1}},
		},
		{
			name: "Google", file: "../feed/testdata/google_merchant.tsv",
			wantFormat: "google-merchant", wantStatus: report.StatusPass,
			wantSpots: []spot{{report.CodeInsecureURL, 3, "E3", "GM-2", "image_link"}},
			wantSum:   report.Summary{Rows: 3, ImageCells: 5, UniqueURLs: 5, NotChecked: 5, Warnings: 1, ByCode: map[report.Code]int{report.CodeInsecureURL: 1}},
		},
		{
			name: "Ebay", file: "../feed/testdata/ebay_file_exchange.csv",
			wantFormat: "ebay", wantStatus: report.StatusFail,
			wantSpots: []spot{{report.CodePresignedURL, 3, "F3", "EB-2", "PicURL"}},
			wantSum:   report.Summary{Rows: 3, ImageCells: 3, UniqueURLs: 3, NotChecked: 3, Errors: 1, ByCode: map[report.Code]int{report.CodePresignedURL: 1}},
		},
		{
			name: "Etsy", file: "../feed/testdata/etsy_listings.csv",
			wantFormat: "etsy", wantStatus: report.StatusFail,
			wantSpots: []spot{{report.CodeShareLink, 3, "H3", "ET-2", "IMAGE2"}},
			wantSum:   report.Summary{Rows: 2, ImageCells: 4, UniqueURLs: 4, NotChecked: 4, Errors: 1, ByCode: map[report.Code]int{report.CodeShareLink: 1}},
		},
		{
			name: "Walmart", file: "../feed/testdata/walmart_items.csv",
			wantFormat: "walmart", wantStatus: report.StatusFail,
			wantSpots: []spot{{report.CodeInvalidURL, 6, "F6", "WM-2", "productSecondaryImageURL"}},
			wantSum:   report.Summary{Rows: 2, ImageCells: 4, UniqueURLs: 4, NotChecked: 4, Errors: 1, ByCode: map[report.Code]int{report.CodeInvalidURL: 1}},
		},
		{
			name: "Generic", file: "../feed/testdata/generic_feed.csv",
			wantFormat: "generic", wantStatus: report.StatusFail,
			wantSpots: []spot{{report.CodeInvalidURL, 3, "C3", "GEN-2", "Picture URL"}},
			wantSum:   report.Summary{Rows: 2, ImageCells: 2, UniqueURLs: 2, NotChecked: 2, Errors: 1, ByCode: map[report.Code]int{report.CodeInvalidURL: 1}},
		},
		{
			name: "ShopifySharedImages", file: "../../testdata/corpus/shopify_product_template.csv",
			wantFormat: "shopify", wantStatus: report.StatusPass,
			wantSpots: []spot{},
			wantSum:   report.Summary{Rows: 17, ImageCells: 26, UniqueURLs: 11, NotChecked: 11, ByCode: map[report.Code]int{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == "" {
				data, err := os.ReadFile(filepath.FromSlash(tc.file))
				if err != nil {
					t.Fatal(err)
				}
				body = string(data)
			}
			rep := runOffline(t, tc.file, strings.NewReader(body), Config{})
			if rep.Status != tc.wantStatus || rep.Format != tc.wantFormat || rep.Mode != report.ModeOffline {
				t.Errorf("Run(%s) = status %s, format %s, mode %s (error %+v); want %s, %s, offline", tc.file, rep.Status, rep.Format, rep.Mode, rep.Error, tc.wantStatus, tc.wantFormat)
			}
			if diff := cmp.Diff(tc.wantSpots, spots(rep.Findings), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Run(%s) findings mismatch (-want +got):\n%s", tc.file, diff)
			}
			if diff := cmp.Diff(tc.wantSum, rep.Summary, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Run(%s) summary mismatch (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}

// endless is a reader of one line that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// Files the pipeline cannot read end in status error with the code and row.
func TestRun_FileErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     io.Reader
		cfg      Config
		wantCode report.ErrorCode
		wantRow  int
	}{
		{name: "Empty", body: strings.NewReader(""), wantCode: report.ErrUnreadableFile},
		{name: "Binary", body: strings.NewReader("\x00\x01\x02\x03binary"), wantCode: report.ErrUnsupportedFile},
		{name: "EndlessLine", body: io.MultiReader(strings.NewReader("id\timage_link\n"), endless{}), cfg: Config{MaxFileBytes: 1 << 40}, wantCode: report.ErrMalformedFile, wantRow: 2},
		{name: "TooLarge", body: strings.NewReader("id\timage_link\n" + strings.Repeat("A\thttps://x.example/a.jpg\n", 100)), cfg: Config{MaxFileBytes: 1000}, wantCode: report.ErrFileTooLarge},
		{name: "MillionsOfColumns", body: strings.NewReader("id,image_link\nA,https://x.example/a.jpg\n" + strings.Repeat("x,", 2_000_000) + "\n"), wantCode: report.ErrMalformedFile, wantRow: 3},
		{name: "InvalidForcedEncoding", body: strings.NewReader("id\timage_link\nA\thttps://x.example/a.jpg\nB\thttps://x.example/\xff.jpg\n"), cfg: Config{Encoding: "utf-8"}, wantCode: report.ErrMalformedFile, wantRow: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := runOffline(t, "feed.txt", tc.body, tc.cfg)
			if rep.Status != report.StatusError || rep.Error == nil {
				t.Fatalf("Run status = %s, error %+v; want error %s", rep.Status, rep.Error, tc.wantCode)
			}
			if rep.Error.Code != tc.wantCode || rep.Error.Row != tc.wantRow {
				t.Errorf("Run error = %s row %d (%s); want %s row %d", rep.Error.Code, rep.Error.Row, rep.Error.Message, tc.wantCode, tc.wantRow)
			}
		})
	}
}

// Many cells through the workers: every cell and URL is counted once, the
// findings are capped and sorted, and a URL seen clean is not re-checked
// into a finding.
func TestRun_ManyCells(t *testing.T) {
	var b strings.Builder
	b.WriteString("id\timage_link\tadditional_image_link\n")
	const rows = 5000
	for i := range rows {
		// Every row repeats one shared URL; every 10th row has plain http.
		scheme := "https"
		if i%10 == 0 {
			scheme = "http"
		}
		b.WriteString("S-" + itoa(i) + "\t" + scheme + "://x.example/" + itoa(i) + ".jpg\thttps://x.example/shared.jpg\n")
	}
	rep := runOffline(t, "feed.tsv", strings.NewReader(b.String()), Config{MaxFindings: 100})
	want := report.Summary{Rows: rows, ImageCells: 2 * rows, UniqueURLs: rows + 1, NotChecked: rows + 1, Warnings: rows / 10, ByCode: map[report.Code]int{report.CodeInsecureURL: rows / 10}}
	if diff := cmp.Diff(want, rep.Summary); diff != "" {
		t.Errorf("Run summary mismatch (-want +got):\n%s", diff)
	}
	if len(rep.Findings) != 100 || rep.FindingsOmitted != rows/10-100 {
		t.Fatalf("Run gave %d findings, %d omitted; want 100, %d", len(rep.Findings), rep.FindingsOmitted, rows/10-100)
	}
	for i, f := range rep.Findings {
		if wantRow := 2 + 10*i; f.Row != wantRow || f.Cell != "B"+itoa(wantRow) {
			t.Fatalf("finding %d at row %d cell %s; want row %d cell B%d", i, f.Row, f.Cell, wantRow, wantRow)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestHashSet(t *testing.T) {
	var s hashSet
	for i := range uint64(10000) {
		h := i * 0x9E3779B97F4A7C15
		slot, seen, _ := s.find(h)
		if seen {
			t.Fatalf("find(%#x) before insert: seen", h)
		}
		s.insert(slot, h, i%2 == 0)
	}
	for i := range uint64(10000) {
		h := i * 0x9E3779B97F4A7C15
		if _, seen, clean := s.find(h); !seen || clean != (i%2 == 0) {
			t.Fatalf("find(%#x) = seen %v clean %v; want true %v", h, seen, clean, i%2 == 0)
		}
	}
	if s.len() != 10000 {
		t.Errorf("len() = %d; want 10000", s.len())
	}
}
