package report

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// update rewrites the golden files: go test ./internal/report -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test ./internal/report -update)", path, err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./internal/report -update and review the diff)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// allCodes lists every finding code of CONTRACT.md.
var allCodes = []Code{
	CodePresignedURL, CodeShareLink, CodeInvalidURL, CodeInsecureURL, CodeHTTPStatus,
	CodeRedirected, CodeNotImage, CodeUnsupportedImage, CodeImageTooSmall, CodeNoZoom,
	CodeImageTooLarge, CodeUnreachable, CodeBlockedAddress, CodeNotChecked,
	CodeMissingMainImage, CodeNoImageColumns,
}

// finding builds a finding with the severity its code has.
func finding(code Code, row int, cell, sku, column, url, msg string) Finding {
	return Finding{Severity: code.Severity(), Code: code, Row: row, Cell: cell, SKU: sku, Column: column, URL: url, Message: msg}
}

// everyCodeReport is a failing report on an Amazon template in S3 that holds
// one finding of every code, in report order.
func everyCodeReport() *Report {
	expires := time.Date(2025, 3, 8, 10, 15, 0, 0, time.UTC)
	presigned := finding(CodePresignedURL, 4, "F4", "ACME-RUN-001", "main_image_url",
		"https://acme-media.s3.eu-west-1.amazonaws.com/shoes/run-001.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20250301T101500Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED",
		"pre-signed S3 URL (aws-sigv4); it expired on 2025-03-08 10:15 UTC")
	presigned.ExpiresAt = &expires
	presigned.Detail = map[string]any{"scheme": "aws-sigv4", "expired": true}
	status := finding(CodeHTTPStatus, 4, "G4", "ACME-RUN-001", "other_image_url1",
		"https://cdn.acme-shoes.example/img/run-001-side.jpg", "answered 404 Not Found")
	status.HTTPStatus = 404
	redirected := finding(CodeRedirected, 6, "F6", "ACME-RUN-003", "main_image_url",
		"https://acme-shoes.example/i/run-003", "reached the image through 2 redirects")
	redirected.Detail = map[string]any{"redirects": []string{"https://acme-shoes.example/i/run-003", "https://www.acme-shoes.example/i/run-003", "https://cdn.acme-shoes.example/img/run-003.jpg"}}
	unreachable := finding(CodeUnreachable, 9, "F9", "ACME-RUN-006", "main_image_url",
		"https://img.acme-old-host.example/run-006.jpg", "no such host img.acme-old-host.example")
	unreachable.Detail = map[string]any{"reason": "dns"}

	fs := []Finding{
		finding(CodeNoImageColumns, 0, "", "", "", "", "no column of the attribute row names an image"),
		presigned,
		status,
		finding(CodeShareLink, 5, "F5", "ACME-RUN-002", "main_image_url",
			"https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/view?usp=sharing",
			"Google Drive share page, not an image"),
		finding(CodeInsecureURL, 5, "G5", "ACME-RUN-002", "other_image_url1",
			"http://images.acme-shoes.example/run-002-back.jpg", "plain http URL"),
		redirected,
		finding(CodeNotImage, 6, "G6", "ACME-RUN-003", "other_image_url1",
			"https://cdn.acme-shoes.example/private/run-003-top.jpg",
			"answered an HTML page (text/html), not an image"),
		finding(CodeUnsupportedImage, 7, "F7", "ACME-RUN-004", "main_image_url",
			"https://cdn.acme-shoes.example/img/run-004.webp", "WebP image"),
		finding(CodeImageTooSmall, 7, "AA7", "ACME-RUN-004", "swatch_image_url",
			"https://cdn.acme-shoes.example/swatch/run-004-red.jpg", "image is 320 x 320 px"),
		finding(CodeNoZoom, 8, "F8", "ACME-RUN-005", "main_image_url",
			"https://cdn.acme-shoes.example/img/run-005.jpg", "image is 800 x 600 px"),
		finding(CodeImageTooLarge, 8, "G8", "ACME-RUN-005", "other_image_url1",
			"https://cdn.acme-shoes.example/img/run-005-detail.tif", "image is 12000 x 9000 px"),
		unreachable,
		finding(CodeBlockedAddress, 10, "F10", "ACME-RUN-007", "main_image_url",
			"http://10.0.4.12/images/run-007.jpg", "host resolves to a private address"),
		finding(CodeNotChecked, 11, "F11", "ACME-RUN-008", "main_image_url",
			"https://cdn.acme-shoes.example/img/run-008.jpg", "the time budget ran out first"),
		finding(CodeInvalidURL, 12, "F12", "ACME-RUN-009", "main_image_url",
			"cdn.acme-shoes.example/img/run 009.jpg", "not an absolute http(s) URL; holds a space"),
		finding(CodeMissingMainImage, 13, "F13", "ACME-RUN-010", "main_image_url", "",
			"the row has an SKU but no main image"),
	}
	byCode := map[Code]int{}
	errs, warns := 0, 0
	for _, f := range fs {
		byCode[f.Code]++
		if f.Severity == SeverityError {
			errs++
		} else {
			warns++
		}
	}
	return &Report{
		SchemaVersion: SchemaVersion,
		Status:        StatusFail,
		Mode:          ModeFull,
		Source:        Source{Bucket: "acme-feeds", Key: "uploads/acme/Flat.File.Shoes.txt", VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", ETag: `"9b2cf535f27731c974343645a3985328"`, Size: 48213},
		Format:        "amazon-fptcustom",
		Encoding:      "windows-1252",
		CheckedAt:     time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC),
		DurationMs:    8421,
		Summary: Summary{
			Rows: 10, ImageCells: 25, UniqueURLs: 24, OKURLs: 13, FailedURLs: 10, NotChecked: 1,
			Errors: errs, Warnings: warns, ByCode: byCode,
		},
		Findings: fs,
	}
}

// everyCodeLocation is where everyCodeReport's full report lives.
var everyCodeLocation = Location{
	URI:        "s3://acme-feeds/uploads/acme/Flat.File.Shoes.txt.report.json",
	ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/acme-feeds?region=eu-west-1&prefix=uploads/acme/Flat.File.Shoes.txt.report.json",
}

// errorReport is the report on a file that could not be read.
func errorReport() *Report {
	return &Report{
		SchemaVersion: SchemaVersion,
		Status:        StatusError,
		Mode:          ModeFull,
		Source:        Source{Bucket: "acme-feeds", Key: "uploads/acme/broken.csv", Size: 1200},
		Format:        "unknown",
		CheckedAt:     time.Date(2025, 3, 10, 9, 31, 0, 0, time.UTC),
		Summary:       Summary{ByCode: map[Code]int{}},
		Error:         &FileError{Code: ErrMalformedFile, Message: `bare " in non-quoted field`, Row: 57},
		Findings:      []Finding{},
	}
}

func TestEveryCodeReport(t *testing.T) {
	r := everyCodeReport()
	var got []Code
	for _, f := range r.Findings {
		got = append(got, f.Code)
	}
	for _, c := range allCodes {
		if !slices.Contains(got, c) {
			t.Errorf("everyCodeReport has no %s finding", c)
		}
	}
	if !slices.IsSortedFunc(r.Findings, func(a, b Finding) int {
		if Less(a, b) {
			return -1
		}
		if Less(b, a) {
			return 1
		}
		return 0
	}) {
		t.Errorf("everyCodeReport findings are not in report order")
	}
}

func TestLess(t *testing.T) {
	tests := []struct {
		name string
		a, b Finding
		want bool
	}{
		{"RowFirst", Finding{Row: 7, Cell: "AA7"}, Finding{Row: 8, Cell: "B8"}, true},
		{"LaterRow", Finding{Row: 9, Cell: "A9"}, Finding{Row: 8, Cell: "B8"}, false},
		{"ShortColumnFirst", Finding{Row: 7, Cell: "B7"}, Finding{Row: 7, Cell: "AA7"}, true},
		{"LongColumnLast", Finding{Row: 7, Cell: "AA7"}, Finding{Row: 7, Cell: "B7"}, false},
		{"SameLengthAlphabetical", Finding{Row: 7, Cell: "AB7"}, Finding{Row: 7, Cell: "BA7"}, true},
		{"ThenCode", Finding{Row: 7, Cell: "E7", Code: CodeInsecureURL}, Finding{Row: 7, Cell: "E7", Code: CodeNotImage}, true},
		{"ThenURL", Finding{Row: 7, Cell: "E7", Code: CodeNotImage, URL: "https://a.example/1.jpg"}, Finding{Row: 7, Cell: "E7", Code: CodeNotImage, URL: "https://a.example/2.jpg"}, true},
		{"Equal", Finding{Row: 7, Cell: "E7", Code: CodeNotImage}, Finding{Row: 7, Cell: "E7", Code: CodeNotImage}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Less(tc.a, tc.b); got != tc.want {
				t.Errorf("Less(%s %s, %s %s) = %v; want %v", tc.a.Cell, tc.a.Code, tc.b.Cell, tc.b.Code, got, tc.want)
			}
		})
	}
}

func TestSortFindings(t *testing.T) {
	fs := []Finding{
		{Row: 7, Cell: "AA7", Code: CodeImageTooSmall},
		{Row: 12, Cell: "B12", Code: CodeNotImage},
		{Row: 7, Cell: "B7", Code: CodeRedirected},
		{Row: 3, Code: CodeNoImageColumns},
		{Row: 7, Cell: "B7", Code: CodeInsecureURL},
		{Row: 7, Cell: "Z7", Code: CodeNoZoom},
	}
	SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.Cell+":"+string(f.Code))
	}
	want := []string{":no_image_columns", "B7:insecure_url", "B7:redirected", "Z7:no_zoom", "AA7:image_too_small", "B12:not_image"}
	if !slices.Equal(got, want) {
		t.Errorf("SortFindings order = %v; want %v", got, want)
	}
}

func TestGroups(t *testing.T) {
	r := &Report{
		Summary: Summary{ByCode: map[Code]int{CodeNoZoom: 5, CodeHTTPStatus: 2, CodeNotImage: 3, CodeInsecureURL: 1}},
		Findings: []Finding{
			finding(CodeNoZoom, 4, "E4", "A", "main_image_url", "https://x.example/1.jpg", ""),
			finding(CodeHTTPStatus, 4, "F4", "A", "other_image_url1", "https://x.example/2.jpg", ""),
			finding(CodeNotImage, 5, "E5", "B", "main_image_url", "https://x.example/3.jpg", ""),
			finding(CodeHTTPStatus, 6, "E6", "C", "main_image_url", "https://x.example/4.jpg", ""),
			finding(CodeNoZoom, 7, "E7", "D", "main_image_url", "https://x.example/5.jpg", ""),
			// The summary does not count this one: Count must still cover it.
			finding(CodeMissingMainImage, 8, "E8", "E", "main_image_url", "", ""),
		},
	}
	gs := Groups(r)
	type row struct {
		code  Code
		sev   Severity
		count int
		rows  []int
	}
	var got []row
	for _, g := range gs {
		x := row{g.Code, g.Severity, g.Count, nil}
		for _, f := range g.Findings {
			x.rows = append(x.rows, f.Row)
		}
		got = append(got, x)
	}
	want := []row{
		{CodeNotImage, SeverityError, 3, []int{5}},
		{CodeHTTPStatus, SeverityError, 2, []int{4, 6}},
		{CodeNoZoom, SeverityWarning, 5, []int{4, 7}},
		{CodeMissingMainImage, SeverityWarning, 1, []int{8}},
	}
	if len(got) != len(want) {
		t.Fatalf("Groups() = %d groups %v; want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.code != w.code || g.sev != w.sev || g.count != w.count || !slices.Equal(g.rows, w.rows) {
			t.Errorf("Groups()[%d] = %+v; want %+v", i, g, w)
		}
	}
}

func TestHeadline(t *testing.T) {
	fail := everyCodeReport()
	offline := everyCodeReport()
	offline.Mode = ModeOffline
	offline.Summary.OKURLs, offline.Summary.FailedURLs, offline.Summary.NotChecked = 0, 0, 24
	pass := &Report{Status: StatusPass, Mode: ModeFull, Source: Source{Path: "feeds/shopify.csv"}, Summary: Summary{UniqueURLs: 120}}
	passOffline := &Report{Status: StatusPass, Mode: ModeOffline, Source: Source{Path: `C:\feeds\etsy.csv`}, Summary: Summary{UniqueURLs: 7}}
	empty := &Report{Status: StatusPass, Mode: ModeFull, Source: Source{Key: "in/prices.txt"}}
	noErr := &Report{Status: StatusError, Source: Source{Key: "in/x.bin"}}
	tests := []struct {
		name string
		r    *Report
		want string
	}{
		{"Fail", fail, "FAIL: Flat.File.Shoes.txt: 10 of 24 image URLs fail, 1 not checked"},
		// Offline, every URL is notChecked; the failing ones are counted
		// from the error findings: 11 URLs (not_checked included).
		{"FailOffline", offline, "FAIL: Flat.File.Shoes.txt: 11 errors in 24 image URLs (offline: not fetched)"},
		{"Pass", pass, "PASS: shopify.csv: 120 image URLs answer with images"},
		{"PassOffline", passOffline, "PASS: etsy.csv: 7 image URLs look permanent (offline: not fetched)"},
		{"NoURLs", empty, "PASS: prices.txt: no image URLs found"},
		{"Error", errorReport(), "ERROR: broken.csv could not be checked (malformed_file)"},
		{"ErrorWithoutDetail", noErr, "ERROR: x.bin could not be checked (unreadable_file)"},
		{"ControlCharacters", &Report{Status: StatusPass, Source: Source{Key: "in/a\r\nb\x1b[2J.txt"}, Summary: Summary{UniqueURLs: 1}}, "PASS: a  b [2J.txt: 1 image URL answers with images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Headline(tc.r); got != tc.want {
				t.Errorf("Headline() = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Plain", "ACME-RUN-001", "ACME-RUN-001"},
		{"Unicode", "Möbel-Größe 42 €", "Möbel-Größe 42 €"},
		{"Newlines", "a\r\nb\nc", "a  b c"},
		{"Escape", "\x1b[31mred\x1b[0m", " [31mred [0m"},
		{"NulAndDel", "a\x00b\x7fc", "a b c"},
		{"C1Control", "a\u0085b\u009bc", "a b c"},
		{"LineSeparators", "a\u2028b\u2029c", "a b c"},
		{"BidiOverride", "abc\u202egnp.exe", "abc gnp.exe"},
		{"BidiIsolate", "\u2066x\u2069", " x "},
		{"InvalidUTF8", "a\xffb", "a\ufffdb"},
		{"Tab", "a\tb", "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in); got != tc.want {
				t.Errorf("Clean(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFix(t *testing.T) {
	for _, c := range allCodes {
		if Fix(c) == "" {
			t.Errorf("Fix(%s) = \"\"; want a remedy", c)
		}
	}
	if got := Fix("no_such_code"); got != "" {
		t.Errorf("Fix(no_such_code) = %q; want \"\"", got)
	}
}

func TestWriteTextGolden(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		r          *Report
	}{
		{"EveryCode", "every_code.text.golden", everyCodeReport()},
		{"Error", "error.text.golden", errorReport()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteText(&b, tc.r); err != nil {
				t.Fatalf("WriteText() error = %v", err)
			}
			golden(t, tc.file, b.String())
		})
	}
}
