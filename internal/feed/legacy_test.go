package feed

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// singleByteRow is one data row of a single-byte test file: the SKU and the
// item name, as UTF-8.
type singleByteRow struct {
	SKU, Name string
}

// TestRead_SingleByteGuess checks that Windows-1252 text with typographic
// punctuation (whose bytes are Mac Roman's accented letters) is read as
// Windows-1252, and that genuine Mac Roman text stays Mac Roman.
func TestRead_SingleByteGuess(t *testing.T) {
	tests := []struct {
		name string
		cm   *charmap.Charmap
		want string
		rows []singleByteRow
	}{
		{
			name: "Windows1252Apostrophes",
			cm:   charmap.Windows1252,
			want: EncodingWindows1252,
			rows: []singleByteRow{
				{"MEN’S-TEE-01", "Men’s “Classic” Tee"},
				{"MEN-SHIRT-02", "Men’s Shirt"},
				{"WOMEN’S-JEANS", "Women’s “Classic” Jeans"},
			},
		},
		{
			name: "Windows1252Dashes",
			cm:   charmap.Windows1252,
			want: EncodingWindows1252,
			rows: []singleByteRow{
				{"CARE–01", "Don’t wash — hand only"},
				{"SIZE-2", "Sizes 32–34 – slim fit"},
			},
		},
		{
			name: "Windows1252EllipsisEuroTrademark",
			cm:   charmap.Windows1252,
			want: EncodingWindows1252,
			rows: []singleByteRow{
				{"PRICE-1", "Price… €9,99"},
				{"TM’99", "FlatGuard™ “Pro” mug… only 5 €"},
			},
		},
		{
			name: "Windows1252SKUApostropheOnly",
			cm:   charmap.Windows1252,
			want: EncodingWindows1252,
			rows: []singleByteRow{
				{"KID’S-CAP", "Kids cap"},
			},
		},
		{
			name: "MacRomanGerman",
			cm:   charmap.Macintosh,
			want: EncodingMacintosh,
			rows: []singleByteRow{
				{"GRÖSSE-01", "Größe M"},
				{"MÜLLER-2", "Müller GmbH"},
				{"MASS-3", "Maße 20°C"},
			},
		},
		{
			name: "MacRomanFrench",
			cm:   charmap.Macintosh,
			want: EncodingMacintosh,
			rows: []singleByteRow{
				{"CAFÉ-01", "Café crème"},
				{"CREME-2", "Crème brûlée"},
			},
		},
		{
			name: "MacRomanMullerOnly",
			cm:   charmap.Macintosh,
			want: EncodingMacintosh,
			rows: []singleByteRow{
				{"MÜLLER", "Müller GmbH"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := "TemplateType=fptcustom\tVersion=2020.0101\nSKU\tName\tMain\nitem_sku\titem_name\tmain_image_url\n"
			for _, r := range tc.rows {
				text += r.SKU + "\t" + r.Name + "\t\n"
			}
			in, err := tc.cm.NewEncoder().Bytes([]byte(text))
			if err != nil {
				t.Fatalf("encode test file: %v", err)
			}
			var got []singleByteRow
			info, err := Read(context.Background(), bytes.NewReader(in), Options{}, func(row Row) error {
				got = append(got, singleByteRow{SKU: row.SKU, Name: row.Field("item_name")})
				return nil
			})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if info.Encoding != tc.want {
				t.Errorf("Read encoding = %q; want %q", info.Encoding, tc.want)
			}
			if diff := cmp.Diff(tc.rows, got); diff != "" {
				t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// The reproduction from the tester: Windows-1252 smart quotes read as Mac
// Roman gave the SKU "MENíS-TEE-01".
func TestGuessLegacy_SmartPunctuation(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"TesterSKU", "TemplateType=fptcustom\tV\nSKU\tMain\nitem_sku\titem_name\tmain_image_url\nMEN\x92S-TEE-01\tMen\x92s \x93Classic\x94 Tee\t\n", EncodingWindows1252},
		{"Apostrophe", "Men\x92s Shirt", EncodingWindows1252},
		{"ApostropheAndEmDash", "Don\x92t wash \x97 hand only", EncodingWindows1252},
		{"Quotes", "Women\x92s \x93Classic\x94 Jeans", EncodingWindows1252},
		{"EllipsisEuro", "Price\x85 \x809,99", EncodingWindows1252},
		{"Trademark", "FlatGuard\x99 mug", EncodingWindows1252},
		{"MacRomanGrosse", "Gr\x9a\xa7e", EncodingMacintosh},
		{"MacRomanCafeCreme", "Caf\x8e cr\x8fme", EncodingMacintosh},
		{"MacRomanMuller", "M\x9fller GmbH", EncodingMacintosh},
		{"MacRomanQuotes", "Men\xd5s \xd2Classic\xd3 Tee", EncodingMacintosh},
	}
	for _, tc := range tests {
		if got := guessLegacy([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: guessLegacy(%q) = %q; want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// Shift_JIS shop data with half-width katakana or a lone kanji is
// Shift_JIS, with the SKU decoded (the tester's files and variants).
func TestRead_ShiftJISHalfWidthKana(t *testing.T) {
	tests := []struct{ sku, title string }{
		{"ｼｬﾂ-01", "メンズ 半袖 Tシャツ 綿100%"},
		{"ﾃｽﾄ", "ﾃｽﾄ ｼｮｳﾋﾝ"},
		{"A-1", "ｶﾞﾝﾀﾞﾑ ﾌﾟﾗﾓﾃﾞﾙ"},
		{"靴-1", "靴"},
		{"TS-1", "ﾒﾝｽﾞ Tｼｬﾂ"},
		{"C-1", "ｶﾗｰ: ﾌﾞﾗｯｸ"},
	}
	for _, tc := range tests {
		in, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte("sku\ttitle\tmain_image_url\n" + tc.sku + "\t" + tc.title + "\thttps://x.example/a.jpg\n"))
		if err != nil {
			t.Fatal(err)
		}
		var sku, title string
		info, err := Read(context.Background(), bytes.NewReader(in), Options{}, func(row Row) error {
			sku, title = row.SKU, row.Field("title")
			return nil
		})
		if err != nil || info.Encoding != EncodingShiftJIS || sku != tc.sku || title != tc.title {
			t.Errorf("Read(%s) = encoding %q, SKU %q, title %q, error %v; want %q, %q, %q, nil", tc.sku, info.Encoding, sku, title, err, EncodingShiftJIS, tc.sku, tc.title)
		}
	}
}
