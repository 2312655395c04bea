package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
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
// "FAIL: 3 of 120 image URLs fail (feed.txt)".
func Headline(r *Report) string {
	name := Clean(baseName(r.Source.Name()))
	switch r.Status {
	case StatusError:
		return fmt.Sprintf("ERROR: %s could not be checked (%s)", name, r.Error.Code)
	case StatusFail:
		return fmt.Sprintf("FAIL: %s: %d of %d image URLs fail", name, r.Summary.FailedURLs+failedOffline(r), r.Summary.UniqueURLs)
	}
	if r.Mode == ModeOffline {
		return fmt.Sprintf("PASS: %s: %d image URLs look permanent (offline: not fetched)", name, r.Summary.UniqueURLs)
	}
	return fmt.Sprintf("PASS: %s: %d image URLs answer with images", name, r.Summary.UniqueURLs)
}

// failedOffline counts distinct failing URLs when nothing was fetched, where
// the summary files every URL under notChecked.
func failedOffline(r *Report) int {
	if r.Mode != ModeOffline {
		return 0
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.Severity == SeverityError && f.URL != "" {
			seen[f.URL] = true
		}
	}
	return len(seen)
}

// WriteText writes the report for a person reading a terminal: verdict,
// counts, then the findings grouped by code with rows and the fix.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintln(&b, Headline(r))
	if r.Status == StatusError {
		fmt.Fprintf(&b, "  %s\n", Clean(r.Error.Message))
		if r.Error.Row > 0 {
			fmt.Fprintf(&b, "  at row %d\n", r.Error.Row)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	s := r.Summary
	fmt.Fprintf(&b, "  format %s, encoding %s, %d rows, %d image cells, %d distinct URLs\n", r.Format, r.Encoding, s.Rows, s.ImageCells, s.UniqueURLs)
	fmt.Fprintf(&b, "  %d ok, %d failed, %d not checked; %d errors, %d warnings\n", s.OKURLs, s.FailedURLs, s.NotChecked, s.Errors, s.Warnings)
	for _, g := range Groups(r) {
		fmt.Fprintf(&b, "\n%s %s (%d): %s\n", strings.ToUpper(string(g.Severity)), g.Code, g.Count, Fix(g.Code))
		for _, f := range g.Findings {
			loc := fmt.Sprintf("row %d", f.Row)
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

// Clean replaces control characters, so that text from a file cannot move a
// terminal's cursor or forge lines in an email.
func Clean(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
