package feed

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A generic file whose header comes as two rows (labels, then attribute
// names) reads the data from below the second: the names are no URLs to
// check.
func TestRead_GenericTwoHeaderRows(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantInfo Info
		wantRows []rowResult
	}{
		{
			name: "LabelsThenNames",
			in: "SKU,Main image,Other image\n" +
				"sku,main_image,other_image\n" +
				"A1,http://127.0.0.1/a.jpg,http://127.0.0.1/b.jpg\n",
			wantInfo: Info{Format: FormatGeneric, Encoding: EncodingUTF8, MainColumn: "main_image", ImageColumns: []string{"main_image", "other_image"}, Rows: 1},
			wantRows: []rowResult{{Num: 3, SKU: "A1", Cells: []Cell{
				img(3, "B3", "main_image", true, "http://127.0.0.1/a.jpg"),
				img(3, "C3", "other_image", false, "http://127.0.0.1/b.jpg"),
			}}},
		},
		{
			name: "ThreeHeaderRows",
			in: "Product,Picture,Photo 2\n" +
				"SKU (required),Main image (URL),Other image\n" +
				"sku,main_image,other_image\n" +
				"A1,https://x.example/a.jpg,\n" +
				"A2,,https://x.example/c.jpg\n",
			wantInfo: Info{Format: FormatGeneric, Encoding: EncodingUTF8, MainColumn: "main_image", ImageColumns: []string{"main_image", "other_image"}, Rows: 2},
			wantRows: []rowResult{
				{Num: 4, SKU: "A1", Cells: []Cell{img(4, "B4", "main_image", true, "https://x.example/a.jpg")}},
				{Num: 5, SKU: "A2", Cells: []Cell{img(5, "C5", "other_image", false, "https://x.example/c.jpg")}},
			},
		},
		{
			// File names under the header are data, not a second header.
			name: "FileNamesAreData",
			in: "sku,main_image,other_image\n" +
				"A1,main-photo.jpg,\n" +
				"A2,https://x.example/a.jpg,\n",
			wantInfo: Info{Format: FormatGeneric, Encoding: EncodingUTF8, MainColumn: "main_image", ImageColumns: []string{"main_image", "other_image"}, Rows: 2},
			wantRows: []rowResult{
				{Num: 2, SKU: "A1", Cells: []Cell{img(2, "B2", "main_image", true, "main-photo.jpg")}},
				{Num: 3, SKU: "A2", Cells: []Cell{img(3, "B3", "main_image", true, "https://x.example/a.jpg")}},
			},
		},
		{
			// A word in an image column that names no image is data.
			name: "WordsNotNamingImagesAreData",
			in: "sku,main_image\n" +
				"A1,pending\n" +
				"A2,https://x.example/a.jpg\n",
			wantInfo: Info{Format: FormatGeneric, Encoding: EncodingUTF8, MainColumn: "main_image", ImageColumns: []string{"main_image"}, Rows: 2},
			wantRows: []rowResult{
				{Num: 2, SKU: "A1", Cells: []Cell{img(2, "B2", "main_image", true, "pending")}},
				{Num: 3, SKU: "A2", Cells: []Cell{img(3, "B3", "main_image", true, "https://x.example/a.jpg")}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, rows, err := collect(strings.NewReader(tc.in), Options{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tc.wantInfo, info); diff != "" {
				t.Errorf("Read info mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRows, rows); diff != "" {
				t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// An Amazon template without a main image column (price and quantity)
// cannot carry a main image: no row needs one.
func TestRead_NoMainColumnNeedsNoMain(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantInfo Info
		wantRows []rowResult
	}{
		{
			name: "PriceQuantity",
			in: "TemplateType=fptcustom\tVersion=2019\nSKU\tPrice\tQty\nitem_sku\tstandard_price\tquantity\n" +
				"A1\t10\t5\nA2\t11\t\t\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, ImageColumns: []string{}, Rows: 2},
			wantRows: []rowResult{{Num: 4, SKU: "A1"}, {Num: 5, SKU: "A2"}},
		},
		{
			// Other images but no main image column.
			name: "OtherImagesOnly",
			in: "TemplateType=fptcustom\tVersion=2019\nSKU\tOther\nitem_sku\tother_image_url1\n" +
				"A1\thttps://x.example/o.jpg\nA2\t\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, ImageColumns: []string{"other_image_url1"}, Rows: 2},
			wantRows: []rowResult{
				{Num: 4, SKU: "A1", Cells: []Cell{img(4, "B4", "other_image_url1", false, "https://x.example/o.jpg")}},
				{Num: 5, SKU: "A2"},
			},
		},
		{
			// With the column, an empty main image is still needed.
			name: "MainColumnPresent",
			in: "TemplateType=fptcustom\tVersion=2019\nSKU\tMain\nitem_sku\tmain_image_url\n" +
				"A1\t\n",
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingUTF8, MainColumn: "main_image_url", ImageColumns: []string{"main_image_url"}, Rows: 1},
			wantRows: []rowResult{{Num: 4, SKU: "A1", Needs: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, rows, err := collect(strings.NewReader(tc.in), Options{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tc.wantInfo, info); diff != "" {
				t.Errorf("Read info mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRows, rows); diff != "" {
				t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
