package feed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// styledBook builds a workbook around a worksheet part written by hand, a
// shared strings part and a styles part whose cell style i has the number
// format fmts[i] ("" for General). Style 0 is the style of a cell without
// one.
func styledBook(t *testing.T, sheet zipPart, sst string, fmts []string) []byte {
	t.Helper()
	var numFmts, xfs strings.Builder
	for i, code := range fmts {
		id := 0
		if code != "" {
			id = 164 + i
			numFmts.WriteString(`<numFmt numFmtId="` + itoa(id) + `" formatCode="` + xmlAttr(code) + `"/>`)
		}
		xfs.WriteString(`<xf numFmtId="` + itoa(id) + `" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`)
	}
	styles := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<numFmts>` + numFmts.String() + `</numFmts>` +
		`<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>` +
		`<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="` + itoa(len(fmts)) + `">` + xfs.String() + `</cellXfs></styleSheet>`
	rels := `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`
	parts := []zipPart{
		{name: "[Content_Types].xml", text: `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{name: "xl/workbook.xml", text: `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Template" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{name: "xl/_rels/workbook.xml.rels", text: `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels + `</Relationships>`},
		sheet,
		{name: "xl/sharedStrings.xml", text: `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`},
		{name: "xl/styles.xml", text: styles},
	}
	return zipParts(t, parts)
}

// xmlAttr escapes s for a double-quoted XML attribute.
func xmlAttr(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;").Replace(s)
}

// styledRow is one data row as read: its number, SKU, image cells and
// quantity field.
type styledRow struct {
	Row      rowResult
	Quantity string
}

func readStyled(t *testing.T, book []byte) (Info, []styledRow) {
	t.Helper()
	var rows []styledRow
	info, err := Read(context.Background(), bytes.NewReader(book), Options{TempDir: t.TempDir()}, func(r Row) error {
		rows = append(rows, styledRow{rowResult{Num: r.Num, SKU: r.SKU, Needs: r.NeedsMainImage, Cells: append([]Cell(nil), r.Images...)}, r.Field("quantity")})
		return nil
	})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	return info, rows
}

const (
	presignedXML  = "https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&amp;X-Amz-Expires=3600&amp;X-Amz-Signature=abc"
	presignedText = "https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=abc"
)

// A cell whose number format hides its value (";;;", ";;", "0;-0;") is read
// by the marketplace all the same: values are read as stored, so its URL is
// handed out at its cell, as a shared string or an inline string.
func TestRead_WorkbookHiddenFormats(t *testing.T) {
	// Styles: 1 ";;;", 2 ";;", 3 "0;-0;" (hides zero), 4 "0;-0;;@".
	fmts := []string{"", ";;;", ";;", "0;-0;", "0;-0;;@"}
	sst := `<si><t>` + presignedXML + `</t></si><si><t>https://x.example/s1.jpg</t></si><si><t>other_image_url1</t></si>`
	sc := func(ref string, i int, style string) string {
		return `<c r="` + ref + `" t="s"` + style + `><v>` + itoa(i) + `</v></c>`
	}
	styledIS := func(ref, v, style string) string {
		return `<c r="` + ref + `" t="inlineStr"` + style + `><is><t>` + v + `</t></is></c>`
	}
	num := func(ref, v, style string) string {
		return `<c r="` + ref + `"` + style + `><v>` + v + `</v></c>`
	}
	rows := `<row r="1">` + istr("A1", "TemplateType=fptcustom") + `</row>` +
		`<row r="2">` + istr("A2", "SKU") + `</row>` +
		// The other image column's name is itself hidden.
		`<row r="3">` + istr("A3", "item_sku") + istr("B3", "main_image_url") + sc("C3", 2, ` s="1"`) + istr("D3", "quantity") + `</row>` +
		// Row 4: a shared string under ";;;".
		`<row r="4">` + istr("A4", "SKU-4") + sc("B4", 0, ` s="1"`) + `</row>` +
		// Row 5: an inline string under ";;;", a shared one under ";;".
		`<row r="5">` + istr("A5", "SKU-5") + styledIS("B5", "https://x.example/hidden-inline.jpg", ` s="1"`) + sc("C5", 1, ` s="2"`) + `</row>` +
		// Row 6: an inline string under ";;" and "0;-0;;@"; quantity 0
		// under "0;-0;" reads 0.
		`<row r="6">` + istr("A6", "SKU-6") + styledIS("B6", "https://x.example/b6.jpg", ` s="2"`) + styledIS("C6", "https://x.example/c6.jpg", ` s="4"`) + num("D6", "0", ` s="3"`) + `</row>` +
		`<row r="7">` + istr("A7", "SKU-7") + istr("B7", "https://x.example/b7.jpg") + num("D7", "7", ` s="3"`) + `</row>` +
		// Row 8: a hidden number SKU, as stored.
		`<row r="8">` + num("A8", "1234.5", ` s="1"`) + istr("B8", "https://x.example/b8.jpg") + `</row>`
	info, got := readStyled(t, styledBook(t, sheetPart(rows), sst, fmts))

	const main, other = "main_image_url", "other_image_url1"
	want := []styledRow{
		{rowResult{Num: 4, SKU: "SKU-4", Needs: true, Cells: []Cell{img(4, "B4", main, true, presignedText)}}, ""},
		{rowResult{Num: 5, SKU: "SKU-5", Needs: true, Cells: []Cell{
			img(5, "B5", main, true, "https://x.example/hidden-inline.jpg"),
			img(5, "C5", other, false, "https://x.example/s1.jpg"),
		}}, ""},
		{rowResult{Num: 6, SKU: "SKU-6", Needs: true, Cells: []Cell{
			img(6, "B6", main, true, "https://x.example/b6.jpg"),
			img(6, "C6", other, false, "https://x.example/c6.jpg"),
		}}, "0"},
		{rowResult{Num: 7, SKU: "SKU-7", Needs: true, Cells: []Cell{img(7, "B7", main, true, "https://x.example/b7.jpg")}}, "7"},
		{rowResult{Num: 8, SKU: "1234.5", Needs: true, Cells: []Cell{img(8, "B8", main, true, "https://x.example/b8.jpg")}}, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
	}
	if wantCols := []string{main, other}; !cmp.Equal(info.ImageColumns, wantCols) || info.Rows != 5 {
		t.Errorf("Read info = %+v; want image columns %q, 5 rows", info, wantCols)
	}
}

// No number format changes a value: one that shows a clean URL in place of
// a stored pre-signed one, prefixes a URL, shows other text for every
// value, shows nothing, pads, colours, localises or spells out numbers.
// Each value reads as stored, the file is never malformed_file for it, and
// the pre-signed URL is the one handed out.
func TestRead_WorkbookFormatsNeverApplied(t *testing.T) {
	codes := []string{
		`0;0;0;"https://cdn.invalid/clean.jpg"`,
		`"https://cdn.invalid/clean.jpg"`,
		`"https://cdn.invalid/"@`,
		`"x";"y";"z";"w"`,
		`""`,
		`"";""`,
		`@""`,
		`* `,
		`[Red]`,
		`[$-409]`,
		`[DBNum1]`,
		`00000`,
		`yyyy-mm-dd`,
		`0.0E+0`,
		`0%;;`,
		`[=0]"";[=1]"";0`,
	}
	// Every cell but the header has style 1: the format under test.
	rows := `<row r="1">` + istr("A1", "id") + istr("B1", "image_link") + istr("C1", "quantity") + `</row>` +
		`<row r="2"><c r="A2" s="1"><v>42</v></c><c r="B2" s="1" t="inlineStr"><is><t>` + presignedXML + `</t></is></c><c r="C2" s="1"><v>0</v></c></row>` +
		`<row r="3"><c r="A3" s="1" t="inlineStr"><is><t>SKU-3</t></is></c><c r="B3" s="1" t="s"><v>0</v></c><c r="C3" s="1"><v>-5</v></c></row>` +
		`<row r="4"><c r="A4" s="1"><v>0.5</v></c><c r="B4" s="1" t="inlineStr"><is><t>https://x.example/b4.jpg</t></is></c><c r="C4" s="1" t="b"><v>1</v></c></row>`
	sst := `<si><t>https://x.example/b3.jpg</t></si>`
	want := []styledRow{
		{rowResult{Num: 2, SKU: "42", Cells: []Cell{img(2, "B2", "image_link", true, presignedText)}}, "0"},
		{rowResult{Num: 3, SKU: "SKU-3", Cells: []Cell{img(3, "B3", "image_link", true, "https://x.example/b3.jpg")}}, "-5"},
		{rowResult{Num: 4, SKU: "0.5", Cells: []Cell{img(4, "B4", "image_link", true, "https://x.example/b4.jpg")}}, "1"},
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			info, got := readStyled(t, styledBook(t, sheetPart(rows), sst, []string{"", code}))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
			}
			if info.Format != FormatGoogleMerchant || info.Rows != 3 {
				t.Errorf("Read info = %+v; want google-merchant, 3 rows", info)
			}
		})
	}
}

// A sheet whose default style hides zeros ("#,##0;-#,##0;", as some shop
// exports set it) is read whatever its size: 50,000 rows of 30 columns,
// 27 of them zero, come out with their stored zeros.
func TestRead_WorkbookDefaultStyleHidesZeros(t *testing.T) {
	const dataRows, zeroCols = 50_000, 27
	sheet := zipPart{name: "xl/worksheets/sheet1.xml", write: func(w io.Writer) error {
		bw := bytes.NewBuffer(make([]byte, 0, 64<<10))
		bw.WriteString(sheetHead + `<row r="1">` + istr("A1", "id") + istr("B1", "title") + istr("C1", "image_link"))
		for c := range zeroCols {
			bw.WriteString(istr(cellRef(3+c, 1), fmt.Sprintf("a%d", c)))
		}
		bw.WriteString(`</row>`)
		for r := 2; r <= dataRows+1; r++ {
			fmt.Fprintf(bw, `<row r="%d"><c t="inlineStr"><is><t>S-%d</t></is></c><c t="inlineStr"><is><t>t</t></is></c><c t="inlineStr"><is><t>https://x.example/%d.jpg</t></is></c>`, r, r, r)
			bw.WriteString(strings.Repeat(`<c><v>0</v></c>`, zeroCols))
			bw.WriteString(`</row>`)
			if bw.Len() > 60<<10 {
				if _, err := w.Write(bw.Bytes()); err != nil {
					return err
				}
				bw.Reset()
			}
		}
		bw.WriteString(sheetTail)
		_, err := w.Write(bw.Bytes())
		return err
	}}
	book := styledBook(t, sheet, "", []string{"#,##0;-#,##0;"})

	var n, zeros int
	var last rowResult
	info, err := Read(context.Background(), bytes.NewReader(book), Options{TempDir: t.TempDir()}, func(r Row) error {
		n++
		if r.Field("a0") == "0" && r.Field("a26") == "0" {
			zeros++
		}
		last = rowResult{Num: r.Num, SKU: r.SKU, Needs: r.NeedsMainImage, Cells: append([]Cell(nil), r.Images...)}
		return nil
	})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	if n != dataRows || zeros != dataRows || info.Rows != dataRows {
		t.Errorf("Read gave %d rows (%d with zeros read), info.Rows %d; want %d each", n, zeros, info.Rows, dataRows)
	}
	end := dataRows + 1
	want := rowResult{Num: end, SKU: "S-" + itoa(end), Cells: []Cell{img(end, "C"+itoa(end), "image_link", true, "https://x.example/"+itoa(end)+".jpg")}}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("last row mismatch (-want +got):\n%s", diff)
	}
}
