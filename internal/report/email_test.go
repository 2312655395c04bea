package report

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// snsLimit is the most an SNS message may hold.
const snsLimit = 256 << 10

func TestBodyGolden(t *testing.T) {
	tests := []struct {
		name, file string
		r          *Report
		loc        Location
	}{
		{"EveryCode", "every_code.golden", everyCodeReport(), everyCodeLocation},
		{"Error", "error.golden", errorReport(), Location{
			URI:        "s3://acme-feeds/uploads/acme/broken.csv.report.json",
			ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/acme-feeds?region=eu-west-1&prefix=uploads/acme/broken.csv.report.json",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.file, Body(tc.r, tc.loc))
		})
	}
}

func TestSubjectGolden(t *testing.T) {
	pass := &Report{Status: StatusPass, Mode: ModeFull, Source: Source{Bucket: "acme-feeds", Key: "in/shopify export.csv"}, Summary: Summary{UniqueURLs: 120}}
	offline := everyCodeReport()
	offline.Mode = ModeOffline
	offline.Summary.OKURLs, offline.Summary.FailedURLs, offline.Summary.NotChecked = 0, 0, 24
	long := everyCodeReport()
	long.Source.Key = "uploads/" + strings.Repeat("Sommerkollektion-Größen-", 12) + ".txt"
	tests := []struct {
		name string
		r    *Report
	}{
		{"EveryCode", everyCodeReport()},
		{"Offline", offline},
		{"Pass", pass},
		{"Error", errorReport()},
		{"LongName", long},
		{"Newlines", &Report{Status: StatusFail, Source: Source{Key: "in/\r\nBcc: x@example.com\r\n\r\nfeed.txt"}, Summary: Summary{UniqueURLs: 3, FailedURLs: 1}}},
	}
	var b strings.Builder
	for _, tc := range tests {
		fmt.Fprintf(&b, "%s\t%s\n", tc.name, Subject(tc.r))
	}
	golden(t, "subjects.golden", b.String())
}

// checkLines fails t for a line of 80 characters or more that holds no URL.
func checkLines(t *testing.T, body string) {
	t.Helper()
	for i, line := range strings.Split(body, "\n") {
		if n := utf8.RuneCountInString(line); n >= 80 && !strings.Contains(line, "://") {
			t.Errorf("body line %d has %d characters and no URL: %q", i+1, n, line)
		}
	}
}

// checkClean fails t for a control character other than a newline, a line
// or paragraph separator, a bidirectional override, or invalid UTF-8 in s.
func checkClean(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s is not valid UTF-8", what)
	}
	for i, r := range s {
		if r != '\n' && (unicode.IsControl(r) || unsafeRune(r)) {
			t.Errorf("%s holds %U at byte %d: %q", what, r, i, s[max(0, i-30):min(len(s), i+30)])
			return
		}
	}
}

func TestBodyLines(t *testing.T) {
	long := everyCodeReport()
	long.Source.Key = "uploads/" + strings.Repeat("very-long-file-name-", 8) + ".txt"
	long.Findings[3].SKU = strings.Repeat("SKU-WITH-A-NAME-THAT-GOES-ON ", 5)
	long.Findings[4].Message = strings.Repeat("a message that a checker wrote at length ", 6)
	errLong := errorReport()
	errLong.Error.Message = strings.Repeat("the workbook holds a sheet that cannot be decoded ", 5)
	tests := []struct {
		name string
		r    *Report
		loc  Location
	}{
		{"EveryCode", everyCodeReport(), everyCodeLocation},
		{"Error", errorReport(), everyCodeLocation},
		{"LongNames", long, Location{}},
		{"LongError", errLong, Location{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := Body(tc.r, tc.loc)
			checkLines(t, body)
			checkClean(t, "Body()", body)
			if first := strings.SplitN(body, "\n", 2)[0]; !strings.HasPrefix(first, strings.ToUpper(string(tc.r.Status))+": ") {
				t.Errorf("Body() first line = %q; want the verdict first", first)
			}
		})
	}
}

// hugeReport holds 10,000 findings spread over every code, with long URLs,
// SKUs and messages, and a key of 1,000 bytes.
func hugeReport() *Report {
	r := everyCodeReport()
	r.Source.Key = "uploads/" + strings.Repeat("k", 1000) + ".txt"
	r.Findings = nil
	r.Summary.ByCode = map[Code]int{}
	for i := range 10000 {
		c := allCodes[i%len(allCodes)]
		f := finding(c, 4+i, fmt.Sprintf("XFD%d", 4+i), strings.Repeat("SKU-", 2000)+fmt.Sprint(i), "main_image_url",
			"https://cdn.acme-shoes.example/"+strings.Repeat("deep/path/", 800)+fmt.Sprintf("%d.jpg?X-Amz-Signature=REDACTED", i),
			strings.Repeat("a long message ", 500))
		r.Findings = append(r.Findings, f)
		r.Summary.ByCode[c]++
	}
	r.Summary.Errors, r.Summary.Warnings = 10000, 0
	r.FindingsOmitted = 250000
	return r
}

func TestBodySize(t *testing.T) {
	r := hugeReport()
	loc := Location{URI: "s3://acme-feeds/" + r.Source.Key + ".report.json", ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/acme-feeds?prefix=" + r.Source.Key + ".report.json"}
	body := Body(r, loc)
	if len(body) >= snsLimit {
		t.Fatalf("len(Body()) = %d bytes; want under %d", len(body), snsLimit)
	}
	if len(body) > 2*bodyBudget {
		t.Errorf("len(Body()) = %d bytes; want at most %d", len(body), 2*bodyBudget)
	}
	checkLines(t, body)
	checkClean(t, "Body()", body)
	for _, want := range []string{"... and 625 more in the full report", "\n250000 more findings are counted but not listed.\n", loc.URI, loc.ConsoleURL} {
		if !strings.Contains(body, want) {
			t.Errorf("Body() of a huge report lacks %q", want)
		}
	}
	for _, c := range allCodes {
		if !strings.Contains(body, " "+string(c)+": 625\n") {
			t.Errorf("Body() of a huge report lacks the %s group header", c)
		}
	}
}

func TestSubjectHostile(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want string
	}{
		{"Newlines", "in/\n\n\nfeed\r\n.txt\n", "[FAIL] feed .txt: 1 of 3 image URLs fail"},
		{"LongASCII", "in/" + strings.Repeat("n", 300) + ".txt", ""},
		{"LongUnicode", "in/" + strings.Repeat("ü", 300), ""},
		{"NewlinesAndLong", strings.Repeat("line\n", 100) + strings.Repeat("x", 300), ""},
		{"Bidi", "in/abc\u202etxt.exe", "[FAIL] abc txt.exe: 1 of 3 image URLs fail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Status: StatusFail, Mode: ModeFull, Source: Source{Bucket: "b", Key: tc.key}, Summary: Summary{UniqueURLs: 3, FailedURLs: 1}}
			got := Subject(r)
			if n := utf8.RuneCountInString(got); n >= 100 {
				t.Errorf("Subject() has %d characters; want under 100: %q", n, got)
			}
			checkClean(t, "Subject()", got)
			if !strings.HasPrefix(got, "[FAIL] ") || !strings.HasSuffix(got, ": 1 of 3 image URLs fail") {
				t.Errorf("Subject() = %q; want [FAIL] name: 1 of 3 image URLs fail", got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("Subject() = %q; want %q", got, tc.want)
			}
		})
	}
}

// hostileReport carries control characters, bidi overrides and invalid
// UTF-8 in every field that comes from the file.
func hostileReport() *Report {
	r := everyCodeReport()
	r.Source.Key = "in/feed\r\n\x1b[2J\u202e.txt"
	for i := range r.Findings {
		f := &r.Findings[i]
		f.SKU = "SKU\x00-\x1b[31m" + fmt.Sprint(i) + "\r\nBcc: x@example.com\xff"
		f.Message = "bad\u2028line\x07\u2066" + f.Message
		f.Column = "main\timage\x0burl"
		if f.URL != "" {
			f.URL += "\x00\n"
		}
	}
	return r
}

func TestNoControlCharacters(t *testing.T) {
	r := hostileReport()
	var text strings.Builder
	if err := WriteText(&text, r); err != nil {
		t.Fatalf("WriteText() error = %v", err)
	}
	var page strings.Builder
	if err := WriteHTML(&page, r, []Thumbnail{{URL: "https://cdn.acme-shoes.example/ok.jpg\x00", Row: 4, Cell: "H4\r\n", SKU: "A\x1bB"}}); err != nil {
		t.Fatalf("WriteHTML() error = %v", err)
	}
	bad := errorReport()
	bad.Error.Message = "cannot read\r\n\x1b[2Jsheet \u202eVorlage"
	var badText strings.Builder
	if err := WriteText(&badText, bad); err != nil {
		t.Fatalf("WriteText() error = %v", err)
	}
	outputs := map[string]string{
		"Subject()":        Subject(r),
		"Body()":           Body(r, everyCodeLocation),
		"WriteText()":      text.String(),
		"WriteHTML()":      page.String(),
		"Headline()":       Headline(r),
		"Body(error)":      Body(bad, Location{}),
		"WriteText(error)": badText.String(),
	}
	for name, out := range outputs {
		checkClean(t, name, out)
		if strings.Contains(out, "\nBcc: ") {
			t.Errorf("%s holds a forged header line", name)
		}
	}
}
