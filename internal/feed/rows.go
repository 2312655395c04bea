package feed

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/flatguard/flatguard/internal/report"
)

// source is a stream of rows: a text file or a workbook sheet.
type source interface {
	// next moves to the next row; false at the end.
	next() (bool, error)
	// num is the current row's number as a person sees it.
	num() int
	// bytes returns the raw bytes of cell i of the current row, nil when
	// the row is shorter. Text in an ASCII-compatible encoding is not
	// decoded; use it for ASCII tests only. The bytes are valid until next.
	bytes(i int) []byte
	// str returns the decoded text of cell i, "" when the row is shorter.
	str(i int) string
	// appendText appends the decoded text of cell i to dst.
	appendText(dst []byte, i int) []byte
	// strs returns all decoded cells of the current row.
	strs() []string
	// blank reports whether every cell of the current row is empty or
	// whitespace.
	blank() bool
}

// ctxEvery is how many rows pass between two looks at the context.
const ctxEvery = 256

// readHeader reads the header rows and returns the layout and the source to
// read the data rows from. Amazon files are recognised by row 1; other files
// by a header row among their first rows, which are then replayed. When no
// row matches a known layout the error is an unsupported_file FileError.
func readHeader(src source) (source, *layout, error) {
	ok, err := src.next()
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, noLayout("")
	}
	row1 := src.strs()
	l, ok, err := detectLayout(row1)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return headerRow(src, row1)
	}
	for src.num() < l.attrRow {
		ok, err := src.next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fileError(report.ErrMalformedFile, src.num(), "file ends before the attribute row of %s", l.describe())
		}
	}
	l.setColumns(src.strs())
	return src, l, nil
}

// headerRow keeps the first rows of a file without an Amazon row 1 and looks
// for a header row among them.
func headerRow(src source, row1 []string) (source, *layout, error) {
	rows := []bufRow{{num: src.num(), cells: slices.Clone(row1)}}
	size := cellsSize(row1)
	for len(rows) < headerScanRows && size < headerScanBytes {
		ok, err := src.next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		cells := slices.Clone(src.strs())
		rows = append(rows, bufRow{num: src.num(), cells: cells})
		size += cellsSize(cells)
	}
	l := detectHeaderLayout(rows)
	if l == nil {
		first := ""
		if len(row1) > 0 {
			first = row1[0]
		}
		return nil, nil, noLayout(first)
	}
	return &replaySource{src: src, rows: rows}, l, nil
}

func cellsSize(cells []string) int {
	n := 0
	for _, c := range cells {
		n += len(c) + 16
	}
	return n
}

// noLayout is the error for a file or sheet whose rows match no layout.
func noLayout(first string) error {
	if first == "" {
		return fileError(report.ErrUnsupportedFile, 0, "no known flat-file layout: row 1 is empty")
	}
	if len(first) > 40 {
		first = first[:40] + "..."
	}
	return fileError(report.ErrUnsupportedFile, 0, "no known flat-file layout: row 1 starts %q", first)
}

// readBody streams the data rows of src to fn.
func readBody(ctx context.Context, src source, l *layout, info *Info, fn func(Row) error) error {
	info.Format = l.format
	if l.main >= 0 {
		info.MainColumn = l.names[l.main]
	}
	info.ImageColumns = make([]string, 0, len(l.images))
	for _, ic := range l.images {
		info.ImageColumns = append(info.ImageColumns, ic.name)
	}
	row := Row{src: src, names: make(map[string]int, len(l.names))}
	for i, name := range l.names {
		if _, dup := row.names[name]; !dup {
			row.names[name] = i
		}
	}

	for n := 0; ; n++ {
		if n%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := src.next()
		if err != nil || !ok {
			return err
		}
		if src.num() < l.dataRow || src.blank() {
			continue
		}
		info.Rows++
		l.fill(src, &row)
		if err := fn(row); err != nil {
			return err
		}
	}
}

// fill sets row from the current row of src. The texts of the row's image
// cells and their A1 references are built in one buffer and turned into one
// string, whose substrings the Cells hold: one allocation a row instead of
// two a cell.
func (l *layout) fill(src source, row *Row) {
	row.Num = src.num()
	row.SKU = ""
	if l.sku >= 0 && len(trimASCII(src.bytes(l.sku))) > 0 {
		row.SKU = strings.TrimSpace(src.str(l.sku))
	}
	if row.SKU == "" && l.skuAlt >= 0 && len(trimASCII(src.bytes(l.skuAlt))) > 0 {
		row.SKU = strings.TrimSpace(src.str(l.skuAlt))
	}

	buf, spans := l.buf[:0], l.spans[:0]
	for k, ic := range l.images {
		if len(trimASCII(src.bytes(ic.col))) == 0 {
			continue
		}
		start := len(buf)
		buf = src.appendText(buf, ic.col)
		text := bytes.TrimSpace(buf[start:])
		if len(text) == 0 {
			buf = buf[:start]
			continue
		}
		buf = append(buf[:start], text...)
		spans = append(spans, cellSpan{image: k, start: start, end: len(buf)})
	}
	for i := range spans {
		spans[i].refStart = len(buf)
		buf = appendCellRef(buf, l.images[spans[i].image].col, row.Num)
		spans[i].refEnd = len(buf)
	}
	mainStart := len(buf)
	if l.main >= 0 {
		buf = appendCellRef(buf, l.main, row.Num)
	}
	all := string(buf)
	l.buf, l.spans = buf, spans

	row.MainCell = all[mainStart:]
	row.Images = row.Images[:0]
	for _, sp := range spans {
		ic := l.images[sp.image]
		c := Cell{Row: row.Num, Cell: all[sp.refStart:sp.refEnd], Column: ic.name, Main: ic.main}
		text := all[sp.start:sp.end]
		if ic.sep == 0 {
			c.URL = text
			row.Images = append(row.Images, c)
			continue
		}
		// Each distinct URL of the cell once (CONTRACT.md: one finding per
		// row, column, URL and code). A cell holds a handful, so the ones
		// kept are scanned; a map takes over for a cell of many.
		first := len(row.Images)
		var seen map[string]bool
		for part := range strings.SplitSeq(text, string(ic.sep)) {
			c.URL = strings.TrimSpace(part)
			if c.URL == "" {
				continue
			}
			kept := row.Images[first:]
			switch {
			case seen != nil:
				if seen[c.URL] {
					continue
				}
				seen[c.URL] = true
			case hasURL(kept, c.URL):
				continue
			case len(kept) >= manyURLs:
				seen = make(map[string]bool, 2*len(kept))
				for _, k := range kept {
					seen[k.URL] = true
				}
				seen[c.URL] = true
			}
			row.Images = append(row.Images, c)
		}
	}
	row.NeedsMainImage = l.needsMain(src, row.SKU)
}

// cellSpan locates one image cell's text and A1 reference in fill's buffer.
type cellSpan struct {
	image            int
	start, end       int
	refStart, refEnd int
}

// manyURLs is how many URLs of one cell are compared by scanning.
const manyURLs = 16

// hasURL reports whether cells holds url.
func hasURL(cells []Cell, url string) bool {
	for _, c := range cells {
		if c.URL == url {
			return true
		}
	}
	return false
}
