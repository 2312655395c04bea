package feed

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// formatCase is one hand-written or corpus file under testdata and what Read
// must find in it. marker is text in the file that each encoding's own
// sample text replaces; titleRow and titleColumn locate the cell holding it.
type formatCase struct {
	name        string
	file        string
	marker      string
	titleRow    int
	titleColumn string
	wantInfo    Info
	wantRows    []rowResult
}

var formatCases = []formatCase{
	{
		name: "Shopify", file: "shopify_product_template.csv", marker: "Example T-Shirt", titleRow: 2, titleColumn: "Title",
		wantInfo: Info{Format: FormatShopify, MainColumn: "Image Src", ImageColumns: []string{"Image Src", "Variant Image"}, Rows: 17},
		wantRows: shopifyRows(),
	},
	{
		name: "GoogleMerchant", file: "google_merchant.tsv", marker: "Größe", titleRow: 2, titleColumn: "title",
		wantInfo: Info{Format: FormatGoogleMerchant, MainColumn: "image_link", ImageColumns: []string{"image_link", "additional_image_link"}, Rows: 3},
		wantRows: []rowResult{
			{Num: 2, SKU: "GM-1", Cells: []Cell{
				img(2, "E2", "image_link", true, "https://images.example.com/gm-1.jpg"),
				img(2, "F2", "additional_image_link", false, "https://images.example.com/gm-1-b.jpg"),
				img(2, "F2", "additional_image_link", false, "https://images.example.com/gm-1-c.jpg?w=1500%2C1500"),
			}},
			{Num: 3, SKU: "GM-2", Cells: []Cell{img(3, "E3", "image_link", true, "http://images.example.com/gm-2.jpg")}},
			{Num: 4, SKU: "GM-3", Cells: []Cell{img(4, "F4", "additional_image_link", false, "https://images.example.com/gm-3.jpg")}},
		},
	},
	{
		name: "EbayFileExchange", file: "ebay_file_exchange.csv", marker: "Größe", titleRow: 2, titleColumn: "*Title",
		wantInfo: Info{Format: FormatEbay, MainColumn: "PicURL", ImageColumns: []string{"PicURL"}, Rows: 3},
		wantRows: []rowResult{
			{Num: 2, SKU: "EB-1", Cells: []Cell{
				img(2, "F2", "PicURL", true, "https://i.example.com/eb-1a.jpg"),
				img(2, "F2", "PicURL", true, "https://i.example.com/eb-1b.jpg"),
			}},
			{Num: 3, SKU: "EB-2", Cells: []Cell{img(3, "F3", "PicURL", true, ebayPresigned)}},
			{Num: 4, SKU: "EB-3"},
		},
	},
	{
		name: "EbayCategoryTemplate", file: "ebay_category_template.csv", marker: "Größe", titleRow: 3, titleColumn: "Title",
		wantInfo: Info{Format: FormatEbay, MainColumn: "Item photo URL", ImageColumns: []string{"Item photo URL"}, Rows: 1},
		wantRows: []rowResult{{Num: 3, SKU: "EB-N1", Cells: []Cell{
			img(3, "E3", "Item photo URL", true, "https://i.example.com/n1.jpg"),
			img(3, "E3", "Item photo URL", true, "https://i.example.com/n2.jpg"),
		}}},
	},
	{
		name: "Etsy", file: "etsy_listings.csv", marker: "Größe", titleRow: 2, titleColumn: "TITLE",
		wantInfo: Info{Format: FormatEtsy, MainColumn: "IMAGE1", ImageColumns: []string{
			"IMAGE1", "IMAGE2", "IMAGE3", "IMAGE4", "IMAGE5", "IMAGE6", "IMAGE7", "IMAGE8", "IMAGE9", "IMAGE10",
		}, Rows: 2},
		wantRows: []rowResult{
			{Num: 2, SKU: "ET-1", Cells: []Cell{
				img(2, "G2", "IMAGE1", true, "https://i.etsystatic.example/ring-1.jpg"),
				img(2, "H2", "IMAGE2", false, "https://i.etsystatic.example/ring-2.jpg"),
				img(2, "P2", "IMAGE10", false, "https://i.etsystatic.example/ring-10.jpg"),
			}},
			{Num: 3, SKU: "ET-2", Cells: []Cell{img(3, "H3", "IMAGE2", false, "https://drive.google.com/file/d/1AbCdEfGhIjK/view?usp=sharing")}},
		},
	},
	{
		name: "Walmart", file: "walmart_items.csv", marker: "Größe", titleRow: 5, titleColumn: "productName",
		wantInfo: Info{Format: FormatWalmart, MainColumn: "mainImageUrl", ImageColumns: []string{"mainImageUrl", "productSecondaryImageURL", "productSecondaryImageURL"}, Rows: 2},
		wantRows: []rowResult{
			{Num: 5, SKU: "WM-1", Cells: []Cell{
				img(5, "D5", "mainImageUrl", true, "https://i5.walmartimages.example/wm-1.jpg"),
				img(5, "E5", "productSecondaryImageURL", false, "https://i5.walmartimages.example/wm-1b.jpg"),
			}},
			{Num: 6, SKU: "WM-2", Cells: []Cell{
				img(6, "E6", "productSecondaryImageURL", false, "https://i5.walmartimages.example/wm-2b.jpg"),
				img(6, "F6", "productSecondaryImageURL", false, "not a url"),
			}},
		},
	},
	{
		name: "Generic", file: "generic_feed.csv", marker: "Größe", titleRow: 2, titleColumn: "Name",
		wantInfo: Info{Format: FormatGeneric, ImageColumns: []string{"Picture URL"}, Rows: 2},
		wantRows: []rowResult{
			{Num: 2, SKU: "GEN-1", Cells: []Cell{img(2, "C2", "Picture URL", false, "https://img.example.com/gen-1.jpg")}},
			{Num: 3, SKU: "GEN-2", Cells: []Cell{img(3, "C3", "Picture URL", false, "www.img.example.com/gen-2.jpg")}},
		},
	},
	{
		name: "Fptcustom", file: fptcustomFile, marker: "Vitamin C tablets", titleRow: 4, titleColumn: "product_description",
		wantInfo: Info{Format: FormatAmazonFptcustom, MainColumn: "main_image_url", ImageColumns: fptcustomImageColumns, Rows: 5},
		wantRows: fptcustomRows,
	},
	{
		name: "ListingLoader", file: listingLoaderFile, marker: "EX-USED-0001", titleRow: 4, titleColumn: "sku",
		wantInfo: Info{Format: FormatAmazonListingLoader, MainColumn: "main-offer-image", Rows: 2, ImageColumns: []string{
			"main-offer-image", "offer-image1", "offer-image2", "offer-image3", "offer-image4", "offer-image5",
		}},
		wantRows: listingLoaderRows,
	},
	{
		name: "PriceQuantity", file: "price_quantity.txt", marker: "PQ-1", titleRow: 2, titleColumn: "sku",
		wantInfo: Info{Format: FormatGeneric, ImageColumns: []string{}, Rows: 2},
		wantRows: []rowResult{{Num: 2, SKU: "PQ-1"}, {Num: 3, SKU: "PQ-2"}},
	},
}

const ebayPresigned = "https://example-bucket.s3.amazonaws.com/eb-2.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240105%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240105T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef"

// shopifyRows are the corpus Shopify file's rows: variant rows share a
// Handle, the image row without a variant takes the Handle as its SKU.
func shopifyRows() []rowResult {
	const cdn = "https://burst.shopifycdn.com/photos/"
	type r struct {
		sku, src, variant string
	}
	data := []r{
		{"SRT_COT_111", "tshirts", "green-t-shirt"}, {"SRT_COT_122", "blank-colored-t-shirts", "green-t-shirt"},
		{"SRT_COT_133", "green-t-shirt", "green-t-shirt"}, {"SRT_COT_211", "cobalt-blue-t-shirt", "cobalt-blue-t-shirt"},
		{"SRT_COT_222", "grey-t-shirt", "cobalt-blue-t-shirt"}, {"SRT_COT_233", "purple-t-shirt", "cobalt-blue-t-shirt"},
		{"SRT_COT_311", "", "grey-t-shirt"}, {"SRT_COT_322", "", "grey-t-shirt"}, {"SRT_COT_333", "", "grey-t-shirt"},
		{"SRT_COT_411", "", "purple-t-shirt"}, {"SRT_COT_422", "", "purple-t-shirt"}, {"SRT_COT_433", "", "purple-t-shirt"},
		{"PNT_DEN_285", "urban-vintage-denimn-on-hangers", "fashion-model-walks-down-city-street"},
		{"PNT_DEN_305", "fashion-model-walks-down-city-street", "woman-puts-hand-in-pocket"},
		{"PNT_DEN_405", "woman-puts-hand-in-pocket", "female-fashion-model-poses-in-city-street"},
		{"example-pants", "female-fashion-model-poses-in-city-street", ""},
		{"HAT_GRY_275", "kids-beanie", ""},
	}
	var out []rowResult
	for i, d := range data {
		n := i + 2
		row := rowResult{Num: n, SKU: d.sku}
		if d.src != "" {
			row.Cells = append(row.Cells, img(n, "Z"+itoa(n), "Image Src", true, cdn+d.src+".jpg?width=1500"))
		}
		if d.variant != "" {
			row.Cells = append(row.Cells, img(n, "AL"+itoa(n), "Variant Image", false, cdn+d.variant+".jpg?width=1500"))
		}
		out = append(out, row)
	}
	return out
}

func itoa(n int) string { return cellRef(0, n)[1:] }

// encodingCase writes a test file's text in one encoding. sample replaces
// the file's marker so each encoding carries text only it can show.
type encodingCase struct {
	name   string
	want   string
	sample string
	enc    encoding.Encoding
	bom    string
}

var encodingCases = []encodingCase{
	{name: "UTF8", want: EncodingUTF8, sample: "Größe 日本 中文 €"},
	{name: "UTF8BOM", want: EncodingUTF8BOM, sample: "Größe 日本 €", bom: "\xEF\xBB\xBF"},
	{name: "UTF16LE", want: EncodingUTF16LE, sample: "Größe 日本 €", enc: unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)},
	{name: "UTF16BE", want: EncodingUTF16BE, sample: "Größe 中文 €", enc: unicode.UTF16(unicode.BigEndian, unicode.UseBOM)},
	{name: "Windows1252", want: EncodingWindows1252, sample: "Größe – 9.99 €", enc: charmap.Windows1252},
	{name: "ShiftJIS", want: EncodingShiftJIS, sample: "日本語の商品テスト", enc: japanese.ShiftJIS},
	{name: "GBK", want: EncodingGBK, sample: "中文商品测试", enc: simplifiedchinese.GBK},
	{name: "MacRoman", want: EncodingMacintosh, sample: "Größe Müller", enc: charmap.Macintosh},
}

// encodeFile returns the testdata file's text with its marker replaced by
// ec's sample, in ec's encoding, and the decoded text of the marker's cell.
func encodeFile(t *testing.T, fc formatCase, ec encodingCase) ([]byte, string) {
	t.Helper()
	raw, err := os.ReadFile(testdataPath(fc.file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	if fc.file == fptcustomFile {
		text, err = charmap.Windows1252.NewDecoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		// The sample must be the only non-ASCII text of the file.
		text = strings.NewReplacer("€", "EUR", "–", "-").Replace(text)
	}
	if !strings.Contains(text, fc.marker) {
		t.Fatalf("%s does not hold %q", fc.file, fc.marker)
	}
	text = strings.Replace(text, fc.marker, ec.sample, 1)
	if fc.marker == "Größe" {
		text = strings.ReplaceAll(text, "Größe", ec.sample)
	}
	out := []byte(ec.bom + text)
	if ec.enc != nil {
		if out, err = ec.enc.NewEncoder().Bytes([]byte(text)); err != nil {
			t.Fatalf("encode %s as %s: %v", fc.file, ec.name, err)
		}
	}
	return out, text
}

// TestRead_FormatsAndEncodings walks every format × encoding: the format,
// encoding and main column detected, every image cell's row, cell, column,
// main flag and URL, every row's SKU, and the decoded text of one cell.
func TestRead_FormatsAndEncodings(t *testing.T) {
	for _, fc := range formatCases {
		for _, ec := range encodingCases {
			t.Run(fc.name+"/"+ec.name, func(t *testing.T) {
				data, _ := encodeFile(t, fc, ec)
				var rows []rowResult
				title := ""
				info, err := Read(context.Background(), bytes.NewReader(data), Options{Name: fc.file}, func(row Row) error {
					rows = append(rows, rowResult{Num: row.Num, SKU: row.SKU, Needs: row.NeedsMainImage, Cells: append([]Cell(nil), row.Images...)})
					if row.Num == fc.titleRow {
						title = row.Field(fc.titleColumn)
					}
					return nil
				})
				if err != nil {
					t.Fatalf("Read(%s as %s) error = %v; want nil", fc.file, ec.name, err)
				}
				wantInfo := fc.wantInfo
				wantInfo.Encoding = ec.want
				if diff := cmp.Diff(wantInfo, info, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Read(%s as %s) info mismatch (-want +got):\n%s", fc.file, ec.name, diff)
				}
				wantRows := fc.wantRows
				if fc.titleColumn == "sku" {
					// The marker is the SKU of the title row.
					wantRows = replaceSKU(wantRows, fc.titleRow, ec.sample)
				}
				if diff := cmp.Diff(wantRows, rows, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Read(%s as %s) rows mismatch (-want +got):\n%s", fc.file, ec.name, diff)
				}
				if !strings.Contains(title, ec.sample) {
					t.Errorf("Read(%s as %s): row %d %s = %q; want it to hold %q", fc.file, ec.name, fc.titleRow, fc.titleColumn, title, ec.sample)
				}
			})
		}
	}
}

// replaceSKU returns rows with the SKU of row num set to sku; the cells'
// own copy of the SKU does not exist, so only rowResult.SKU changes.
func replaceSKU(rows []rowResult, num int, sku string) []rowResult {
	out := append([]rowResult(nil), rows...)
	for i := range out {
		if out[i].Num == num {
			out[i].SKU = sku
		}
	}
	return out
}

// A workbook version of a header-row format: the header is found below
// note rows on the sheet, as in Walmart's downloads.
func TestRead_WalmartWorkbook(t *testing.T) {
	book := makeWorkbook(t, []string{"Instructions", "Product Content"}, map[string]map[string]string{
		"Instructions": {"A1": "Read me"},
		"Product Content": {
			"A1": "Version=5.0", "A2": "Fields marked * are required",
			"A3": "SKU*", "B3": "Main Image URL*", "C3": "Additional Image URL 1",
			"A4": "sku", "B4": "mainImageUrl", "C4": "productSecondaryImageURL",
			"A5": "WM-1", "B5": "https://i5.walmartimages.example/1.jpg",
			"A7": "WM-2", "C7": "https://i5.walmartimages.example/2b.jpg",
		},
	})
	info, rows, err := collect(bytes.NewReader(book), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	wantInfo := Info{Format: FormatWalmart, Encoding: EncodingUTF8, Sheet: "Product Content", MainColumn: "mainImageUrl", ImageColumns: []string{"mainImageUrl", "productSecondaryImageURL"}, Rows: 2}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("Read info mismatch (-want +got):\n%s", diff)
	}
	want := []rowResult{
		{Num: 5, SKU: "WM-1", Cells: []Cell{img(5, "B5", "mainImageUrl", true, "https://i5.walmartimages.example/1.jpg")}},
		{Num: 7, SKU: "WM-2", Cells: []Cell{img(7, "C7", "productSecondaryImageURL", false, "https://i5.walmartimages.example/2b.jpg")}},
	}
	if diff := cmp.Diff(want, rows, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
	}
}
