// Package feed reads marketplace flat files: it recognises the container
// (tab-, comma- or semicolon-delimited text, or an .xlsx/.xlsm workbook), the
// text encoding and the layout, then streams the data rows and hands out
// every image cell with the row number, A1 cell reference, SKU and column
// name that CONTRACT.md's report uses.
//
// Layouts: Amazon files are recognised by row 1 (TemplateType=..., or a
// unified template's settings=...). Other files by a header row among their
// first rows: Google Merchant Center (image_link), Shopify (Handle and
// Image Src), eBay (PicURL or Item photo URL), Etsy (IMAGE1), Walmart (a
// main-image column; the last header row naming its columns wins, as
// Walmart puts labels above the attribute names), else a generic header
// with image-named columns over URL-looking values or a SKU column; when
// the rows right below it are names too (image columns naming images, no
// URL or file name), the last of them is the header and the rows above are
// header rows, not data. A layout without a main image column (an Amazon
// price and quantity template) has no row that needs a main image. Cells
// holding several URLs are split: Google's additional_image_link on commas,
// eBay's picture column on "|"; each part is trimmed, and a URL repeated
// within one cell is handed out once.
//
// The delimiter is decided from the first line that holds one. Encodings
// are detected in CONTRACT.md's order: a byte-order mark, valid UTF-8, then
// Shift_JIS, GBK/GB18030 or Mac Roman when the bytes give evidence for them
// (see legacy.go), Windows-1252 last. A forced encoding (Options.Encoding)
// must hold: a record with bytes invalid in it is malformed_file.
//
// Row numbers are the ones a person sees: in a workbook the sheet's own row
// numbers; in text the record's position, where a quoted cell spanning lines
// is one row and a blank line is a row of its own. Blank rows advance the
// numbering but are not data rows: fn is not called for them and Info.Rows
// does not count them.
//
// Text is never read whole: a hand-written splitter walks a bounded buffer,
// splits only as far as the last column it needs and turns into strings only
// the image cells, the SKU and the cells a caller asks for with Row.Field.
// Encodings that keep ASCII bytes as ASCII (UTF-8, Windows-1252) are split as
// raw bytes and decoded cell by cell.
//
// How file problems map to CONTRACT.md's error codes:
//
//   - unreadable_file: the reader failed, or the file is empty (there is
//     nothing to check).
//   - unsupported_file: the bytes are not a flat file this package knows:
//     binary data, a legacy .xls workbook, a zip that is no workbook, text or a
//     workbook without a recognised layout.
//   - file_too_large: more than Options.MaxFileBytes bytes, or a workbook that
//     unpacks (or says it unpacks) to more than Options.MaxUnzipBytes, lists
//     more than 10,000 zip entries, or holds more than 2,097,152 shared
//     strings.
//   - malformed_file: a recognised layout whose structure is broken: header
//     rows missing, unified-template settings without row numbers, a quoted
//     cell never closed, a row longer than Options.MaxRowBytes, a row of
//     more than 16,384 columns (Excel's limit), bytes that are invalid in a
//     forced encoding, a NUL byte in a text row; in a workbook, XML that
//     breaks (a stray "&" or "<", an undefined entity, a part cut short, a
//     failed zip checksum), a cell given twice, out of order or outside its
//     row, rows out of order, a row past 1,048,576, more than 1 MiB of text
//     without markup, a row the workbook library reads otherwise than the
//     strict pass.
//     The FileError's Row is the row where reading stopped.
//
// Workbooks are read in two passes:
//
//  1. A strict pass (workbook.go, sheet.go) with archive/zip and
//     encoding/xml under fixed caps: the unpacked bytes counted while
//     inflating, 1 MiB of text between two tags, element depth, row length,
//     Excel's row and column limits. It reads the workbook, relationship,
//     styles and shared strings parts, chooses the upload sheet and reads
//     it to the end of its part (zip checksum included). Any XML error, a
//     row out of order, a cell given twice, out of order or outside its row
//     is malformed_file with the row; nothing is handed to fn before the
//     whole sheet has passed. Of each row it keeps 16 bytes: how many cells
//     hold a value and a sum over their columns.
//  2. The values, row by row, from github.com/xuri/excelize/v2 (libsheet.go)
//     with RawCellValue: each cell's stored value, never its display. Strings
//     come as stored, numbers in their stored form (a SKU 42 formatted 00000
//     reads 42), booleans as 1 or 0, dates as serial numbers. excelize opens
//     a copy of the workbook holding only the parts the strict pass read,
//     with its unzip limits set from the same caps.
//
// Why both: excelize's row iterator drops XML decoder errors (a sheet that
// breaks partway reads as a shorter sheet that passes), places a cell by
// its position among the row's cells rather than by its reference, buffers
// a run of text whole (a 409 KB zip took 1 GB) and inflates every part of a
// zip when it opens it. The strict pass refuses all of that before excelize
// opens the file, and each row excelize gives is checked against the strict
// pass's record of it: other cells with values, a row missing or one too
// many is malformed_file at that row. The upload sheet is chosen on the
// strict pass's values; its header rows and data rows are then read from
// excelize.
//
// Number formats are never applied, because the marketplace reads a
// cell's value, not what Excel shows of it, and a format can disguise a
// URL: the format 0;0;0;"https://cdn.invalid/clean.jpg" shows a clean URL
// in place of a stored pre-signed one, ;;; shows nothing and
// "https://cdn.invalid/"@ puts a prefix before every text. With stored
// values the strict pass and excelize agree on which cells hold a value
// whatever the format, so the row check is exact.
package feed
