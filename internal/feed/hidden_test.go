package feed

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

// styledBook builds a workbook around a worksheet part written by hand, a
// shared strings part and a styles part whose cell styles 1, 2 ... have the
// number formats fmts.
func styledBook(t *testing.T, rows, sst string, fmts []string) []byte {
	t.Helper()
	var numFmts, xfs bytes.Buffer
	xfs.WriteString(`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`)
	for i, code := range fmts {
		id := 164 + i
		numFmts.WriteString(`<numFmt numFmtId="` + itoa(id) + `" formatCode="`)
		if err := xmlEscape(&numFmts, code); err != nil {
			t.Fatal(err)
		}
		numFmts.WriteString(`"/>`)
		xfs.WriteString(`<xf numFmtId="` + itoa(id) + `" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`)
	}
	styles := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<numFmts count="` + itoa(len(fmts)) + `">` + numFmts.String() + `</numFmts>` +
		`<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>` +
		`<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="` + itoa(len(fmts)+1) + `">` + xfs.String() + `</cellXfs></styleSheet>`
	rels := `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`
	parts := []zipPart{
		{name: "[Content_Types].xml", text: `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{name: "xl/workbook.xml", text: `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Template" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{name: "xl/_rels/workbook.xml.rels", text: `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels + `</Relationships>`},
		sheetPart(rows),
		{name: "xl/sharedStrings.xml", text: `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`},
		{name: "xl/styles.xml", text: styles},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p.text); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func xmlEscape(w *bytes.Buffer, s string) error {
	for _, r := range s {
		switch r {
		case '"':
			w.WriteString("&quot;")
		case '&':
			w.WriteString("&amp;")
		case '<':
			w.WriteString("&lt;")
		default:
			w.WriteRune(r)
		}
	}
	return nil
}

// A cell whose number format hides its value (";;;", ";;", "0;-0;") is read
// by the marketplace all the same: its URL is handed out at its cell, as a
// shared string or an inline string, and the row still passes the exact
// check against the strict pass.
func TestRead_WorkbookHiddenFormats(t *testing.T) {
	const presigned = "https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&amp;X-Amz-Expires=3600&amp;X-Amz-Signature=abc"
	const presignedText = "https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=abc"
	// Styles: 1 ";;;", 2 ";;", 3 "0;-0;" (hides zero), 4 "0;-0;;@".
	fmts := []string{";;;", ";;", "0;-0;", "0;-0;;@"}
	sst := `<si><t>` + presigned + `</t></si><si><t>https://x.example/s1.jpg</t></si><si><t>other_image_url1</t></si>`
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
		// under "0;-0;" reads 0 (General), 7 reads 7 as shown.
		`<row r="6">` + istr("A6", "SKU-6") + styledIS("B6", "https://x.example/b6.jpg", ` s="2"`) + styledIS("C6", "https://x.example/c6.jpg", ` s="4"`) + num("D6", "0", ` s="3"`) + `</row>` +
		`<row r="7">` + istr("A7", "SKU-7") + istr("B7", "https://x.example/b7.jpg") + num("D7", "7", ` s="3"`) + `</row>` +
		// Row 8: a hidden number SKU in General form.
		`<row r="8">` + num("A8", "1234.5", ` s="1"`) + istr("B8", "https://x.example/b8.jpg") + `</row>`
	book := styledBook(t, rows, sst, fmts)

	type got struct {
		Row      rowResult
		Quantity string
	}
	var rows2 []got
	info, err := Read(context.Background(), bytes.NewReader(book), Options{TempDir: t.TempDir()}, func(r Row) error {
		rows2 = append(rows2, got{rowResult{Num: r.Num, SKU: r.SKU, Needs: r.NeedsMainImage, Cells: append([]Cell(nil), r.Images...)}, r.Field("quantity")})
		return nil
	})
	if err != nil {
		t.Fatalf("Read error = %v; want nil", err)
	}
	const main, other = "main_image_url", "other_image_url1"
	want := []got{
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
	if diff := cmp.Diff(want, rows2); diff != "" {
		t.Errorf("Read rows mismatch (-want +got):\n%s", diff)
	}
	if wantCols := []string{main, other}; !cmp.Equal(info.ImageColumns, wantCols) || info.Rows != 5 {
		t.Errorf("Read info = %+v; want image columns %q, 5 rows", info, wantCols)
	}
}

// The values kept of hidden cells are capped: past the cap the sheet is
// file_too_large at the row, never read with values missing.
func TestHiddenCellsCap(t *testing.T) {
	tests := []struct {
		name string
		h    hiddenCells
		v    string
	}{
		{name: "Cells", h: hiddenCells{cells: make([]hiddenCell, maxHiddenCells)}, v: "x"},
		{name: "Bytes", h: hiddenCells{text: make([]byte, maxHiddenBytes-1)}, v: "xy"},
	}
	for _, tc := range tests {
		err := tc.h.add(9, 1, []byte(tc.v))
		var fe *FileError
		if !errors.As(err, &fe) || fe.Code != report.ErrFileTooLarge || fe.Row != 9 {
			t.Errorf("%s: add = %v; want file_too_large at row 9", tc.name, err)
		}
	}
	var h hiddenCells
	for i, v := range []string{"a", "bc", "def"} {
		if err := h.add(i+1, i, []byte(v)); err != nil {
			t.Fatalf("add(%q) = %v; want nil", v, err)
		}
	}
	for i, want := range []string{"a", "bc", "def"} {
		if got := h.value(i); got != want {
			t.Errorf("value(%d) = %q; want %q", i, got, want)
		}
	}
}
