package feed

import (
	"context"
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
	// strs returns all decoded cells of the current row.
	strs() []string
	// blank reports whether every cell of the current row is empty or
	// whitespace.
	blank() bool
}

// ctxEvery is how many rows pass between two looks at the context.
const ctxEvery = 256

// readHeader reads row 1 to the attribute row and returns the layout. When
// row 1 matches no known layout the error is an unsupported_file FileError.
func readHeader(src source) (*layout, error) {
	ok, err := src.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noLayout("")
	}
	row1 := src.strs()
	l, ok, err := detectLayout(row1)
	if err != nil {
		return nil, err
	}
	if !ok {
		first := ""
		if len(row1) > 0 {
			first = row1[0]
		}
		return nil, noLayout(first)
	}
	for src.num() < l.attrRow {
		ok, err := src.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fileError(report.ErrMalformedFile, src.num(), "file ends before the attribute row of %s", l.describe())
		}
	}
	l.setColumns(src.strs())
	return l, nil
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

// fill sets row from the current row of src.
func (l *layout) fill(src source, row *Row) {
	row.Num = src.num()
	row.SKU = ""
	if l.sku >= 0 && len(trimASCII(src.bytes(l.sku))) > 0 {
		row.SKU = strings.TrimSpace(src.str(l.sku))
	}
	row.Images = row.Images[:0]
	for _, ic := range l.images {
		if len(trimASCII(src.bytes(ic.col))) == 0 {
			continue
		}
		text := strings.TrimSpace(src.str(ic.col))
		if text == "" {
			continue
		}
		ref := cellRef(ic.col, row.Num)
		if ic.sep == 0 {
			row.Images = append(row.Images, Cell{Row: row.Num, Cell: ref, Column: ic.name, Main: ic.main, URL: text})
			continue
		}
		for part := range strings.SplitSeq(text, string(ic.sep)) {
			if part = strings.TrimSpace(part); part != "" {
				row.Images = append(row.Images, Cell{Row: row.Num, Cell: ref, Column: ic.name, Main: ic.main, URL: part})
			}
		}
	}
	row.NeedsMainImage = l.needsMain(src, row.SKU)
}
