package feed

import (
	"slices"
	"strings"
	"unicode"
)

// Files without an Amazon row 1 carry a header row: Google Merchant Center,
// Shopify, eBay, Etsy, Walmart and anything else with image-named columns.
// The header is not always row 1 (Walmart sheets have several rows of labels
// and notes above it, eBay's newer templates an #INFO row), so Read keeps the
// first rows, picks the header among them and replays the rest as data.

const (
	// headerScanRows is how many rows are kept to look for the header row.
	headerScanRows = 12
	// headerScanBytes stops the look early when the kept rows grow large.
	headerScanBytes = 4 << 20
)

// headerFormat says whether a row of normalised names is the header row of
// one of the header-row formats, and which.
func headerFormat(names []string) string {
	has := func(want string) bool { return slices.Contains(names, want) }
	switch {
	case has("imagelink"):
		return FormatGoogleMerchant
	case has("handle") && has("imagesrc"):
		return FormatShopify
	case has("picurl") || has("itemphotourl"):
		return FormatEbay
	case has("image1"):
		return FormatEtsy
	case has("mainimageurl"):
		return FormatWalmart
	}
	return ""
}

// bufRow is a row kept while looking for the header.
type bufRow struct {
	num   int
	cells []string
}

// detectHeaderLayout picks the header row among the first rows of a file.
// The first row that names a known format's columns decides the format; a
// later row naming the same format's columns wins (Walmart puts human labels
// above the attribute names). Failing that, the first row with a header
// cell that names an image over URL-looking values, or with a SKU column, is
// a generic header; when the rows right below it are names too (see
// repeatsHeader), the last of them is the header and the rows above it are
// header rows, not data. It returns nil when no row qualifies.
func detectHeaderLayout(rows []bufRow) *layout {
	norm := make([][]string, len(rows))
	for i, r := range rows {
		norm[i] = make([]string, len(r.cells))
		for j, c := range r.cells {
			norm[i][j] = normName(strings.TrimSpace(c))
		}
	}

	format, at := "", -1
	for i := range rows {
		f := headerFormat(norm[i])
		if f == "" || (format != "" && f != format) {
			continue
		}
		format, at = f, i
	}
	if format != "" {
		l := &layout{format: format, attrRow: rows[at].num, dataRow: rows[at].num + 1}
		l.setColumns(trimAll(rows[at].cells))
		return l
	}

	for i := range rows {
		l := genericLayout(rows, i)
		if len(l.images) == 0 && l.sku < 0 {
			continue
		}
		// Rows of names under the header (labels above attribute names,
		// as Walmart does) are header rows too: the last one names the
		// columns and the data starts below it.
		for i+1 < len(rows) && repeatsHeader(l, rows[i+1].cells) {
			next := genericLayout(rows, i+1)
			if len(next.images) == 0 && next.sku < 0 {
				break
			}
			i, l = i+1, next
		}
		return l
	}
	return nil
}

// genericLayout is the generic layout with rows[i] as its header row.
func genericLayout(rows []bufRow, i int) *layout {
	l := &layout{format: FormatGeneric, attrRow: rows[i].num, dataRow: rows[i].num + 1}
	l.setColumns(trimAll(rows[i].cells))
	l.keepURLColumns(rows[i+1:])
	return l
}

// repeatsHeader reports whether cells, the row below l's header row, is
// another header row rather than data: every cell is empty or a name (words
// or an identifier, no URL, no file name), each of l's image columns holds
// a name that names an image, and l's SKU column one that holds "sku". A
// row with nothing to compare (no image or SKU column) is data.
func repeatsHeader(l *layout, cells []string) bool {
	if len(l.images) == 0 && l.sku < 0 {
		return false
	}
	for _, c := range cells {
		if !isHeaderName(strings.TrimSpace(c)) {
			return false
		}
	}
	cell := func(i int) string {
		if i < len(cells) {
			return normName(strings.TrimSpace(cells[i]))
		}
		return ""
	}
	for _, ic := range l.images {
		if !genericImage(cell(ic.col)) {
			return false
		}
	}
	return l.sku < 0 || strings.Contains(cell(l.sku), "sku")
}

// isHeaderName reports whether s reads as a column name: empty, or letters,
// digits, spaces and the marks names use (_ - * # ( ) :), with no dot,
// slash or other character of a URL or file name.
func isHeaderName(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r):
		case r == ' ', r == '_', r == '-', r == '*', r == '#', r == '(', r == ')', r == ':':
		default:
			return false
		}
	}
	return true
}

// keepURLColumns drops the generic image columns whose values in the kept
// data rows are all text other than URLs ("Image Alt Text", "Photo count").
// A column with no value in those rows is kept on its name.
func (l *layout) keepURLColumns(data []bufRow) {
	kept := l.images[:0]
	for _, ic := range l.images {
		values, urls := 0, 0
		for _, r := range data {
			if ic.col >= len(r.cells) {
				continue
			}
			v := strings.TrimSpace(r.cells[ic.col])
			if v == "" {
				continue
			}
			values++
			if looksLikeURL(v) {
				urls++
			}
		}
		if values == 0 || urls > 0 {
			kept = append(kept, ic)
		}
	}
	l.images = kept
	l.main = -1
	for _, ic := range l.images {
		if ic.main {
			l.main = ic.col
			break
		}
	}
	l.lastCol = max(l.sku, l.skuAlt, l.parent, l.action)
	for _, ic := range l.images {
		l.lastCol = max(l.lastCol, ic.col)
	}
}

// looksLikeURL reports whether v reads as a web address.
func looksLikeURL(v string) bool {
	return strings.Contains(v, "://") || hasPrefixFold(v, "www.")
}

func trimAll(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// replaySource hands out kept rows first, then the rows of src.
type replaySource struct {
	src     source
	rows    []bufRow
	pos     int
	cur     *bufRow
	scratch []byte
}

func (r *replaySource) next() (bool, error) {
	if r.pos < len(r.rows) {
		r.cur = &r.rows[r.pos]
		r.pos++
		return true, nil
	}
	r.cur, r.rows = nil, nil
	return r.src.next()
}

func (r *replaySource) num() int {
	if r.cur != nil {
		return r.cur.num
	}
	return r.src.num()
}

func (r *replaySource) bytes(i int) []byte {
	if r.cur != nil {
		r.scratch = append(r.scratch[:0], r.str(i)...)
		return r.scratch
	}
	return r.src.bytes(i)
}

func (r *replaySource) str(i int) string {
	if r.cur != nil {
		if i < len(r.cur.cells) {
			return r.cur.cells[i]
		}
		return ""
	}
	return r.src.str(i)
}

func (r *replaySource) appendText(dst []byte, i int) []byte {
	if r.cur != nil {
		return append(dst, r.str(i)...)
	}
	return r.src.appendText(dst, i)
}

func (r *replaySource) strs() []string {
	if r.cur != nil {
		return r.cur.cells
	}
	return r.src.strs()
}

func (r *replaySource) blank() bool {
	if r.cur != nil {
		for _, c := range r.cur.cells {
			if strings.TrimSpace(c) != "" {
				return false
			}
		}
		return true
	}
	return r.src.blank()
}
