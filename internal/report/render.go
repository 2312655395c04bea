package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fix returns the plain-language remedy for a finding code.
func Fix(c Code) string {
	switch c {
	case CodePresignedURL:
		return "re-host the image on a permanent public URL, or use the object's plain URL once it is public"
	case CodeShareLink:
		return "link the image file itself, not its share page"
	case CodeInvalidURL:
		return "write a complete https:// URL without spaces (encode them as %20)"
	case CodeInsecureURL:
		return "serve the image over https"
	case CodeHTTPStatus:
		return "make the URL answer 200 to an anonymous GET"
	case CodeRedirected:
		return "link the final image URL directly"
	case CodeNotImage:
		return "link the image bytes, not a web page or login wall"
	case CodeUnsupportedImage:
		return "use JPEG, PNG, TIFF or a non-animated GIF"
	case CodeImageTooSmall:
		return "upload an image at least 500 px on its longest side"
	case CodeNoZoom:
		return "use at least 1000 px on the longest side to enable zoom"
	case CodeImageTooLarge:
		return "keep images under 10000 px and 10 MiB"
	case CodeUnreachable:
		return "make the host reachable from the internet"
	case CodeBlockedAddress:
		return "host the image on a public address"
	case CodeNotChecked:
		return "check the file again, or raise the time budget"
	case CodeMissingMainImage:
		return "add a main image URL to the row"
	case CodeNoImageColumns:
		return "nothing to fix if the file carries no images"
	}
	return ""
}

// errorFix returns the remedy for a file that could not be checked.
func errorFix(c ErrorCode) string {
	switch c {
	case ErrUnreadableFile:
		return "save the file again from the spreadsheet program and upload it again"
	case ErrUnsupportedFile:
		return "upload a flat file: tab-delimited text, CSV, or an .xlsx/.xlsm workbook"
	case ErrFileTooLarge:
		return "split the file into smaller files and upload each one"
	case ErrMalformedFile:
		return "correct the row named above (a stray quote is the usual cause) and upload the file again"
	}
	return "check the file and upload it again"
}

// fileError returns the report's file error, or an unreadable_file error
// when an error report carries none, so that renderings never fail on it.
func fileError(r *Report) *FileError {
	if r.Error != nil {
		return r.Error
	}
	return &FileError{Code: ErrUnreadableFile, Message: "no reason was recorded"}
}

// WriteJSON writes r as the indented JSON document of CONTRACT.md.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Group is the findings of one code, in report order.
type Group struct {
	Code     Code
	Severity Severity
	Count    int
	Findings []Finding
}

// Groups returns the listed findings grouped by code, errors first, then by
// count; Count is the total from the summary, which may exceed the listed
// findings when the list was capped.
func Groups(r *Report) []Group {
	idx := map[Code]int{}
	var gs []Group
	for _, f := range r.Findings {
		i, ok := idx[f.Code]
		if !ok {
			i = len(gs)
			idx[f.Code] = i
			gs = append(gs, Group{Code: f.Code, Severity: f.Code.Severity(), Count: r.Summary.ByCode[f.Code]})
		}
		gs[i].Findings = append(gs[i].Findings, f)
	}
	for i := range gs {
		// A summary that undercounts (or lacks byCode) never shows fewer
		// findings than are listed.
		gs[i].Count = max(gs[i].Count, len(gs[i].Findings))
	}
	sort.SliceStable(gs, func(i, j int) bool {
		if gs[i].Severity != gs[j].Severity {
			return gs[i].Severity == SeverityError
		}
		if gs[i].Count != gs[j].Count {
			return gs[i].Count > gs[j].Count
		}
		return gs[i].Code < gs[j].Code
	})
	return gs
}

// Headline is the one-line verdict, such as
// "FAIL: feed.txt: 3 of 120 image URLs fail".
func Headline(r *Report) string {
	return headline(r, Clean(baseName(r.Source.Name())))
}

// headline is Headline with the file's name given.
func headline(r *Report, name string) string {
	switch r.Status {
	case StatusError:
		return fmt.Sprintf("ERROR: %s could not be checked (%s)", name, Clean(string(fileError(r).Code)))
	case StatusFail:
		return fmt.Sprintf("FAIL: %s: %s", name, failCount(r))
	}
	if r.Summary.UniqueURLs == 0 {
		return fmt.Sprintf("PASS: %s: no image URLs found", name)
	}
	if r.Mode == ModeOffline {
		return fmt.Sprintf("PASS: %s: %s permanent (offline: not fetched)", name, verb(r.Summary.UniqueURLs, "image URL", "looks", "look"))
	}
	return fmt.Sprintf("PASS: %s: %s with images", name, verb(r.Summary.UniqueURLs, "image URL", "answers", "answer"))
}

// failCount says how many URLs fail, such as "3 of 120 image URLs fail",
// and how many the time budget left unchecked, which also fail the file.
// Offline, where the summary files every URL under notChecked, it counts
// the error findings instead: the summary counts them all, even when the
// findings list is capped.
func failCount(r *Report) string {
	if r.Mode == ModeOffline {
		return fmt.Sprintf("%s in %s (offline: not fetched)", nouns(r.Summary.Errors, "error"), nouns(r.Summary.UniqueURLs, "image URL"))
	}
	s := fmt.Sprintf("%d of %d image URLs fail", r.Summary.FailedURLs, r.Summary.UniqueURLs)
	if r.Summary.NotChecked > 0 {
		s += fmt.Sprintf(", %d not checked", r.Summary.NotChecked)
	}
	return s
}

// verb is nouns followed by the verb that agrees with the count.
func verb(n int, noun, one, many string) string {
	if n == 1 {
		return nouns(n, noun) + " " + one
	}
	return nouns(n, noun) + " " + many
}

// nouns counts things in English: "1 image URL", "2 image URLs".
func nouns(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteText writes the report for a person reading a terminal: verdict,
// counts, then the findings grouped by code with rows and the fix.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintln(&b, Headline(r))
	if r.Status == StatusError {
		fe := fileError(r)
		fmt.Fprintf(&b, "  %s\n", Clean(fe.Message))
		if fe.Row > 0 {
			fmt.Fprintf(&b, "  at row %d\n", fe.Row)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	s := r.Summary
	fmt.Fprintf(&b, "  format %s, encoding %s, %s, %s, %s\n", r.Format, r.Encoding, nouns(s.Rows, "row"), nouns(s.ImageCells, "image cell"), nouns(s.UniqueURLs, "distinct URL"))
	fmt.Fprintf(&b, "  %d ok, %d failed, %d not checked; %s, %s\n", s.OKURLs, s.FailedURLs, s.NotChecked, nouns(s.Errors, "error"), nouns(s.Warnings, "warning"))
	for _, g := range Groups(r) {
		fmt.Fprintf(&b, "\n%s %s (%d): %s\n", strings.ToUpper(string(g.Severity)), g.Code, g.Count, Fix(g.Code))
		for _, f := range g.Findings {
			loc := fmt.Sprintf("row %d", f.Row)
			if f.Row == 0 {
				loc = "file"
			}
			if f.Cell != "" {
				loc += " " + f.Cell
			}
			if f.SKU != "" {
				loc += " sku " + Clean(f.SKU)
			}
			fmt.Fprintf(&b, "  %s: %s\n", loc, Clean(f.Message))
			if f.URL != "" {
				fmt.Fprintf(&b, "    %s\n", Clean(f.URL))
			}
		}
	}
	if r.FindingsOmitted > 0 {
		fmt.Fprintf(&b, "\n%d more findings not listed\n", r.FindingsOmitted)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Clean replaces control characters, Unicode line and paragraph separators
// and bidirectional overrides with spaces, and invalid UTF-8 with U+FFFD, so
// that text from a file cannot move a terminal's cursor, forge lines in an
// email, reorder what a reader sees, or make SNS reject a message.
func Clean(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return ' '
		}
		return r
	}, s)
}

// unsafeRune reports whether r is a rune Clean replaces.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
