package feed

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/flatguard/flatguard/internal/report"
)

// layout is what a format's header rows say about its columns.
type layout struct {
	format string
	// attrRow holds the column names; dataRow is the first data row.
	attrRow, dataRow int
	// names are the column names of attrRow, by column index.
	names  []string
	images []imageColumn
	// sku, parent and action are column indexes, -1 when absent. skuAlt
	// is the SKU column used when sku is empty on a row (Shopify's Handle).
	sku, skuAlt, parent, action int
	// main is the column index of the main image column, -1 when none.
	main int
	// mainRule says whether the format has the missing_main_image rule.
	mainRule bool
	// lastCol is the highest column index read for a data row.
	lastCol int
	// buf and spans are fill's scratch space.
	buf   []byte
	spans []cellSpan
}

// imageColumn is a column holding image URLs.
type imageColumn struct {
	col  int
	name string
	main bool
	// sep splits a cell holding several URLs; 0 means one URL per cell.
	sep byte
}

// maxHeaderRow bounds the row numbers a unified template's settings may name,
// so a hostile settings string cannot make Read skip the whole file.
const maxHeaderRow = 100

// detectLayout recognises the format from row 1 of a file. It reports
// ok=false when row 1 matches no known layout.
func detectLayout(row1 []string) (*layout, bool, error) {
	if len(row1) == 0 {
		return nil, false, nil
	}
	first := strings.TrimSpace(row1[0])
	switch {
	case hasPrefixFold(first, "TemplateType="):
		l := &layout{format: FormatAmazonTemplate, attrRow: 3, dataRow: 4, mainRule: true}
		switch v := first[len("TemplateType="):]; {
		case strings.EqualFold(v, "fptcustom"):
			l.format = FormatAmazonFptcustom
		case strings.EqualFold(v, "Offer"):
			l.format, l.mainRule = FormatAmazonListingLoader, false
		}
		return l, true, nil
	case strings.HasPrefix(first, "settings="):
		l, err := unifiedLayout(row1)
		return l, err == nil, err
	}
	return nil, false, nil
}

// unifiedLayout reads the header row numbers from a unified template's row 1.
// The settings string is split over cells "settings=", "settings2=" ...;
// joined in order it is URL-query-like: "&"-separated key=value pairs with
// percent-encoded values, among them labelRow, attributeRow and dataRow.
func unifiedLayout(row1 []string) (*layout, error) {
	type chunk struct {
		n    int
		text string
	}
	var chunks []chunk
	for _, c := range row1 {
		key, val, ok := strings.Cut(c, "=")
		if !ok || !strings.HasPrefix(key, "settings") {
			continue
		}
		n := 1
		if suffix := key[len("settings"):]; suffix != "" {
			var err error
			if n, err = strconv.Atoi(suffix); err != nil || n < 2 {
				continue
			}
		}
		chunks = append(chunks, chunk{n, val})
	}
	sort.SliceStable(chunks, func(i, j int) bool { return chunks[i].n < chunks[j].n })
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.text)
	}

	rows := map[string]int{"labelRow": 0, "attributeRow": 0, "dataRow": 0}
	for pair := range strings.SplitSeq(b.String(), "&") {
		key, val, _ := strings.Cut(pair, "=")
		if _, ok := rows[key]; !ok {
			continue
		}
		v, err := url.PathUnescape(val)
		if err != nil {
			return nil, fileError(report.ErrMalformedFile, 1, "unified template settings: %s: %v", key, err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > maxHeaderRow {
			return nil, fileError(report.ErrMalformedFile, 1, "unified template settings: %s=%q is not a row number from 1 to %d", key, v, maxHeaderRow)
		}
		rows[key] = n
	}
	for _, key := range []string{"attributeRow", "dataRow"} {
		if rows[key] == 0 {
			return nil, fileError(report.ErrMalformedFile, 1, "unified template settings lack %s", key)
		}
	}
	if rows["dataRow"] <= rows["attributeRow"] {
		return nil, fileError(report.ErrMalformedFile, 1, "unified template settings: dataRow %d is not below attributeRow %d", rows["dataRow"], rows["attributeRow"])
	}
	l := &layout{
		format:   FormatAmazonUnified,
		attrRow:  rows["attributeRow"],
		dataRow:  rows["dataRow"],
		mainRule: true,
	}
	return l, nil
}

// setColumns finds the image, SKU and flag columns among the names of the
// attribute (or header) row.
func (l *layout) setColumns(names []string) {
	l.names = names
	l.images = l.images[:0]
	l.sku, l.skuAlt, l.parent, l.action, l.main = -1, -1, -1, -1, -1
	for i, name := range names {
		if name == "" {
			continue
		}
		if main, sep, ok := l.imageName(name); ok {
			l.images = append(l.images, imageColumn{col: i, name: name, main: main, sep: sep})
			if main && l.main < 0 {
				l.main = i
			}
		}
		switch l.role(name) {
		case roleSKU:
			if l.sku < 0 {
				l.sku = i
			}
		case roleSKUAlt:
			if l.skuAlt < 0 {
				l.skuAlt = i
			}
		case roleParent:
			if l.parent < 0 {
				l.parent = i
			}
		case roleAction:
			if l.action < 0 {
				l.action = i
			}
		}
	}
	if l.sku < 0 && l.format != FormatAmazonUnified {
		// Old templates name the SKU column item_sku, Listing Loaders and
		// some others sku; the generic fallback takes any name holding sku.
		l.sku = skuColumn(names, l.format == FormatGeneric)
	}

	l.lastCol = -1
	for _, c := range []int{l.sku, l.skuAlt, l.parent, l.action} {
		l.lastCol = max(l.lastCol, c)
	}
	for _, ic := range l.images {
		l.lastCol = max(l.lastCol, ic.col)
	}
}

// skuColumn returns the index of the column named sku, or with loose set of
// the first column whose name holds "sku"; -1 when there is none.
func skuColumn(names []string, loose bool) int {
	for i, name := range names {
		if normName(name) == "sku" {
			return i
		}
	}
	if loose {
		for i, name := range names {
			if strings.Contains(normName(name), "sku") {
				return i
			}
		}
	}
	return -1
}

// imageName tells whether a column name is one of the format's image
// columns, whether it is the main one, and the separator of a cell holding
// several URLs (0 for one URL per cell).
func (l *layout) imageName(name string) (main bool, sep byte, ok bool) {
	n := normName(name)
	switch l.format {
	case FormatAmazonUnified:
		main, ok = unifiedImage(name)
		return main, 0, ok
	case FormatAmazonListingLoader:
		if n == "mainofferimage" {
			return true, 0, true
		}
		return false, 0, numbered(n, "offerimage", 1, 5)
	case FormatGoogleMerchant:
		switch n {
		case "imagelink":
			return true, 0, true
		case "additionalimagelink":
			// Merchant Center takes several URLs in one cell, split on
			// commas; a comma inside a URL must be written %2C.
			return false, ',', true
		}
		return false, 0, false
	case FormatShopify:
		return n == "imagesrc", 0, n == "imagesrc" || n == "variantimage"
	case FormatEbay:
		ok = n == "picurl" || n == "itemphotourl"
		return ok, '|', ok
	case FormatEtsy:
		return n == "image1", 0, numbered(n, "image", 1, 10)
	case FormatWalmart:
		if n == "mainimageurl" {
			return true, 0, true
		}
		return false, 0, n == "productsecondaryimageurl" || strings.HasPrefix(n, "additionalimageurl")
	case FormatGeneric:
		return strings.Contains(n, "main"), 0, genericImage(n)
	default:
		if n == "mainimageurl" {
			return true, 0, true
		}
		return false, 0, n == "swatchimageurl" || numbered(n, "otherimageurl", 1, 8)
	}
}

// genericImage reports whether a normalised header name names an image.
func genericImage(n string) bool {
	for _, w := range []string{"image", "img", "picture", "photo"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// unifiedImage matches a unified template attribute name such as
// "other_product_image_locator_3[marketplace_id=ATVPDKIKX0DER]#1.media_location".
func unifiedImage(name string) (main, ok bool) {
	base := name
	if i := strings.IndexAny(base, "[#"); i >= 0 {
		base = base[:i]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 && strings.Contains(name, "#") {
		if name[i+1:] != "media_location" {
			return false, false
		}
	}
	switch {
	case base == "main_product_image_locator":
		return true, true
	case base == "swatch_product_image_locator", base == "main_offer_image_locator":
		return false, true
	}
	return false, numbered(base, "other_product_image_locator_", 1, 8) || numbered(base, "other_offer_image_locator_", 1, 5)
}

// numbered reports whether s is prefix followed by a number from lo to hi.
func numbered(s, prefix string, lo, hi int) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" || rest[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n >= lo && n <= hi
}

type role int

const (
	roleNone role = iota
	roleSKU
	roleSKUAlt
	roleParent
	roleAction
)

// role names what a non-image column is used for.
func (l *layout) role(name string) role {
	if l.format == FormatAmazonUnified {
		base, _, _ := strings.Cut(name, "[")
		switch {
		case name == "contribution_sku#1.value":
			return roleSKU
		case name == "::record_action":
			return roleAction
		case base == "parentage_level" && strings.HasSuffix(name, ".value"):
			return roleParent
		}
		return roleNone
	}
	n := normName(name)
	switch l.format {
	case FormatGoogleMerchant:
		if n == "id" {
			return roleSKU
		}
		return roleNone
	case FormatShopify:
		switch n {
		case "variantsku":
			return roleSKU
		case "handle":
			return roleSKUAlt
		}
		return roleNone
	case FormatEbay:
		// "CustomLabel" in File Exchange, "Custom label (SKU)" in the
		// newer category templates.
		if strings.HasPrefix(n, "customlabel") {
			return roleSKU
		}
		return roleNone
	case FormatEtsy, FormatWalmart, FormatGeneric:
		return roleNone
	}
	switch n {
	case "itemsku":
		return roleSKU
	case "parentchild":
		return roleParent
	case "updatedelete", "operationtype":
		return roleAction
	}
	return roleNone
}

// needsMain applies CONTRACT.md's missing_main_image rule to a data row.
// A layout without a main image column (a price and quantity template)
// never needs one: the file cannot carry it.
func (l *layout) needsMain(src source, sku string) bool {
	if !l.mainRule || l.main < 0 || sku == "" {
		return false
	}
	if l.parent >= 0 && foldEqual(trimASCII(src.bytes(l.parent)), "parent") {
		return false
	}
	if l.action >= 0 {
		a := src.bytes(l.action)
		// Old templates: Update, PartialUpdate, Delete. Unified:
		// "Create or Replace (Full Update)", "Edit (Partial Update)", "Delete".
		if containsFold(a, "delete") || containsFold(a, "partial") {
			return false
		}
	}
	return true
}

// normName lowercases a column name and drops "_", "-", "*" and spaces, so
// that main_image_url, MainImageUrl and Walmart's "Main Image URL*" compare
// equal.
func normName(s string) string {
	return normBytes([]byte(s))
}

func normBytes(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c == '_' || c == '-' || c == ' ' || c == '\t' || c == '*':
		case 'A' <= c && c <= 'Z':
			out = append(out, c+'a'-'A')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold reports whether b holds word (lower-case ASCII), ignoring case.
func containsFold(b []byte, word string) bool {
	for i := 0; i+len(word) <= len(b); i++ {
		if foldEqual(b[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

func foldEqual(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// trimASCII trims ASCII whitespace from both ends of b.
func trimASCII(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// cellRef returns the A1 reference of a 0-based column index and a row.
func cellRef(col, row int) string {
	return string(appendCellRef(nil, col, row))
}

// appendCellRef appends the A1 reference of a 0-based column index and a
// row to dst.
func appendCellRef(dst []byte, col, row int) []byte {
	var buf [24]byte
	i := len(buf)
	for n := row; ; n /= 10 {
		i--
		buf[i] = byte('0' + n%10)
		if n < 10 {
			break
		}
	}
	for n := col + 1; n > 0; n = (n - 1) / 26 {
		i--
		buf[i] = byte('A' + (n-1)%26)
	}
	return append(dst, buf[i:]...)
}

// describe names a layout for error messages.
func (l *layout) describe() string {
	return fmt.Sprintf("%s (attribute row %d, data from row %d)", l.format, l.attrRow, l.dataRow)
}
