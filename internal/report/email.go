package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Location says where the full report of a notification lives.
type Location struct {
	// URI is the report object's S3 URI, s3://bucket/key.report.json.
	URI string
	// ConsoleURL opens the report object in the S3 console.
	ConsoleURL string
}

// maxSubject keeps the SNS Subject under SNS's 100-character limit.
const maxSubject = 99

// perCode is how many rows the email lists for one finding code.
const perCode = 10

// The email's size limits. SNS refuses a message over 256 KiB; the body
// stops listing findings once it passes bodyBudget, and no URL, SKU or
// message in it runs longer than its own cap, so the whole body stays well
// under the limit whatever the file holds.
const (
	bodyBudget = 64 << 10
	maxURL     = 1000
	maxSKU     = 40
	maxMessage = 300
	maxErrText = 2000
	lineWidth  = 79
)

// Subject returns the notification subject, such as
// "[FAIL] feed.txt: 3 of 120 image URLs fail": under 100 characters, no
// control characters, as SNS requires.
func Subject(r *Report) string {
	name := strings.Join(strings.Fields(Clean(baseName(r.Source.Name()))), " ")
	var tail string
	switch r.Status {
	case StatusError:
		tail = fmt.Sprintf(": not checked (%s)", Clean(string(fileError(r).Code)))
	case StatusFail:
		tail = ": " + failCount(r)
	default:
		tail = fmt.Sprintf(": %s ok", nouns(r.Summary.UniqueURLs, "image URL"))
	}
	head := "[" + strings.ToUpper(Clean(string(r.Status))) + "] "
	room := maxSubject - len(head) - len(tail)
	if len(name) > room {
		name = truncate(name, room-3) + "..."
	}
	return truncate(head+name+tail, maxSubject)
}

// Body returns the plain-text email body: verdict first, counts, the top
// findings grouped by code with rows and the fix, and where the full report
// lives. Lines stay under 80 characters except for URLs; the body stays
// far below SNS's 256 KiB whatever the file.
func Body(r *Report, loc Location) string {
	var b strings.Builder
	fmt.Fprintln(&b, bodyHeadline(r))
	fmt.Fprintln(&b)
	src := r.Source
	if src.Bucket != "" {
		fmt.Fprintf(&b, "File:    s3://%s/%s\n", Clean(src.Bucket), Clean(src.Key))
		if src.VersionID != "" {
			fmt.Fprintf(&b, "Version: %s\n", Clean(src.VersionID))
		}
	} else {
		fmt.Fprintf(&b, "File:    %s\n", Clean(src.Path))
	}
	if r.Status == StatusError {
		fe := fileError(r)
		fmt.Fprintf(&b, "Error:   %s\n", Clean(string(fe.Code)))
		wrap(&b, "  ", truncate(Clean(fe.Message), maxErrText))
		if fe.Row > 0 {
			fmt.Fprintf(&b, "  at row %d\n", fe.Row)
		}
		wrap(&b, "  Fix: ", errorFix(fe.Code))
	} else {
		writeFindings(&b, r)
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "Full report:")
	if loc.URI != "" {
		fmt.Fprintf(&b, "  %s\n", Clean(loc.URI))
	}
	if loc.ConsoleURL != "" {
		fmt.Fprintf(&b, "  %s\n", Clean(loc.ConsoleURL))
	}
	if loc.URI == "" && loc.ConsoleURL == "" {
		fmt.Fprintln(&b, "  beside the file, as .report.json and .report.html")
	}
	return b.String()
}

// bodyHeadline is the Headline with the file's name shortened so that the
// line fits the email's width.
func bodyHeadline(r *Report) string {
	name := Clean(baseName(r.Source.Name()))
	over := utf8.RuneCountInString(headline(r, name)) - lineWidth
	if over <= 0 {
		return headline(r, name)
	}
	n := utf8.RuneCountInString(name) - over - 3
	return headline(r, string([]rune(name)[:max(n, 1)])+"...")
}

// writeFindings writes the counts and the first findings of each code, until
// the body passes bodyBudget.
func writeFindings(b *strings.Builder, r *Report) {
	s := r.Summary
	fmt.Fprintf(b, "Format:  %s (%s), %s\n", Clean(r.Format), Clean(r.Encoding), nouns(s.Rows, "row"))
	fmt.Fprintf(b, "URLs:    %d distinct in %s\n", s.UniqueURLs, nouns(s.ImageCells, "image cell"))
	fmt.Fprintf(b, "         %d ok, %d failed, %d not checked\n", s.OKURLs, s.FailedURLs, s.NotChecked)
	fmt.Fprintf(b, "Found:   %s, %s\n", nouns(s.Errors, "error"), nouns(s.Warnings, "warning"))
	for _, g := range Groups(r) {
		fmt.Fprintf(b, "\n%s %s: %d\n", strings.ToUpper(string(g.Severity)), Clean(string(g.Code)), g.Count)
		wrap(b, "  Fix: ", Fix(g.Code))
		shown := 0
		for _, f := range g.Findings {
			if shown == perCode || b.Len() > bodyBudget {
				break
			}
			writeFinding(b, f)
			shown++
		}
		if shown < g.Count {
			fmt.Fprintf(b, "  ... and %d more in the full report\n", g.Count-shown)
		}
	}
	if r.FindingsOmitted > 0 {
		fmt.Fprintf(b, "\n%d more findings are counted but not listed.\n", r.FindingsOmitted)
	}
}

// writeFinding writes one finding: where it is, what is wrong, its URL.
func writeFinding(b *strings.Builder, f Finding) {
	loc := fmt.Sprintf("  row %d", f.Row)
	if f.Row == 0 {
		loc = "  file"
	}
	if f.Cell != "" {
		loc += " " + truncate(Clean(f.Cell), 12)
	}
	if f.SKU != "" {
		loc += " " + strings.Join(strings.Fields(truncate(Clean(f.SKU), maxSKU)), " ")
	}
	if msg := truncate(Clean(f.Message), maxMessage); msg != "" {
		wrapIndent(b, loc+": ", "      ", msg)
	} else {
		fmt.Fprintln(b, loc)
	}
	if f.URL != "" {
		u := Clean(f.URL)
		if len(u) > maxURL {
			u = truncate(u, maxURL) + "..."
		}
		fmt.Fprintf(b, "    %s\n", u)
	}
}

// wrap writes text after prefix, breaking lines before 80 columns.
func wrap(b *strings.Builder, prefix, text string) {
	wrapIndent(b, prefix, strings.Repeat(" ", len(prefix)), text)
}

// wrapIndent writes text after prefix, breaking lines before 80 columns and
// starting each further line with indent. A word longer than a line stays
// whole on a line of its own.
func wrapIndent(b *strings.Builder, prefix, indent, text string) {
	line := prefix
	bare := true
	for _, w := range strings.Fields(text) {
		if !bare && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > lineWidth-1 {
			b.WriteString(line + "\n")
			line, bare = indent, true
		}
		if !bare {
			line += " "
		}
		line += w
		bare = false
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
