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

// Subject returns the notification subject, such as
// "[FAIL] feed.txt: 3 of 120 image URLs fail": under 100 characters, no
// control characters, as SNS requires.
func Subject(r *Report) string {
	name := Clean(baseName(r.Source.Name()))
	var tail string
	switch r.Status {
	case StatusError:
		tail = fmt.Sprintf(": not checked (%s)", r.Error.Code)
	case StatusFail:
		tail = fmt.Sprintf(": %d of %d image URLs fail", r.Summary.FailedURLs+failedOffline(r), r.Summary.UniqueURLs)
	default:
		tail = fmt.Sprintf(": %d image URLs ok", r.Summary.UniqueURLs)
	}
	head := "[" + strings.ToUpper(string(r.Status)) + "] "
	room := maxSubject - len(head) - len(tail)
	if len(name) > room {
		name = truncate(name, room-3) + "..."
	}
	return head + name + tail
}

// Body returns the plain-text email body: verdict first, counts, the top
// findings grouped by code with rows and the fix, and where the full report
// lives. Lines stay under 80 characters except for URLs; the body stays
// far below SNS's 256 KiB whatever the file.
func Body(r *Report, loc Location) string {
	var b strings.Builder
	fmt.Fprintln(&b, Headline(r))
	fmt.Fprintln(&b)
	src := r.Source
	if src.Bucket != "" {
		fmt.Fprintf(&b, "File:    s3://%s/%s\n", src.Bucket, Clean(src.Key))
		if src.VersionID != "" {
			fmt.Fprintf(&b, "Version: %s\n", src.VersionID)
		}
	} else {
		fmt.Fprintf(&b, "File:    %s\n", Clean(src.Path))
	}
	if r.Status == StatusError {
		fmt.Fprintf(&b, "Error:   %s\n", r.Error.Code)
		wrap(&b, "  ", Clean(r.Error.Message))
		if r.Error.Row > 0 {
			fmt.Fprintf(&b, "  at row %d\n", r.Error.Row)
		}
	} else {
		s := r.Summary
		fmt.Fprintf(&b, "Format:  %s (%s), %d rows\n", r.Format, r.Encoding, s.Rows)
		fmt.Fprintf(&b, "URLs:    %d distinct in %d image cells\n", s.UniqueURLs, s.ImageCells)
		fmt.Fprintf(&b, "         %d ok, %d failed, %d not checked\n", s.OKURLs, s.FailedURLs, s.NotChecked)
		fmt.Fprintf(&b, "Found:   %d errors, %d warnings\n", s.Errors, s.Warnings)
		for _, g := range Groups(r) {
			fmt.Fprintf(&b, "\n%s %s: %d\n", strings.ToUpper(string(g.Severity)), g.Code, g.Count)
			wrap(&b, "  Fix: ", Fix(g.Code))
			for i, f := range g.Findings {
				if i == perCode {
					fmt.Fprintf(&b, "  ... and %d more in the full report\n", g.Count-perCode)
					break
				}
				line := fmt.Sprintf("  row %d", f.Row)
				if f.Cell != "" {
					line += " " + f.Cell
				}
				if f.SKU != "" {
					line += " " + truncate(Clean(f.SKU), 40)
				}
				fmt.Fprintln(&b, line)
				if f.URL != "" {
					fmt.Fprintf(&b, "    %s\n", truncate(Clean(f.URL), 2000))
				}
			}
		}
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "Full report:")
	if loc.URI != "" {
		fmt.Fprintf(&b, "  %s\n", loc.URI)
	}
	if loc.ConsoleURL != "" {
		fmt.Fprintf(&b, "  %s\n", loc.ConsoleURL)
	}
	return b.String()
}

// wrap writes text after prefix, breaking lines before 80 columns.
func wrap(b *strings.Builder, prefix, text string) {
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 78 && strings.TrimSpace(line) != strings.TrimSpace(prefix) {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent
		}
		if line != prefix && line != indent {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
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
