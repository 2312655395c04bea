package validate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flatguard/flatguard/internal/report"
)

func TestCheckStatic(t *testing.T) {
	now := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		url       string
		codes     []report.Code
		fetchable bool
		message   string
	}{
		{"Plain", "https://images.example.com/a.jpg", nil, true, ""},
		{"Insecure", "http://images.example.com/a.jpg", []report.Code{"insecure_url"}, true, "plain http: the marketplace may refuse it; serve the image over https"},
		{"InnerSpace", "https://images.example.com/a b.jpg", []report.Code{"invalid_url"}, false, "the URL holds whitespace or a control character: remove it or encode it"},
		{"Tab", "https://images.example.com/a\tb.jpg", []report.Code{"invalid_url"}, false, "the URL holds whitespace or a control character: remove it or encode it"},
		{"Relative", "/catalog/a.jpg", []report.Code{"invalid_url"}, false, "not an absolute http(s) URL"},
		{"FTP", "ftp://images.example.com/a.jpg", []report.Code{"invalid_url"}, false, "not an absolute http(s) URL"},
		{"NoHost", "https:///a.jpg", []report.Code{"invalid_url"}, false, "the URL names no host"},
		{"BadEscape", "https://images.example.com/a%zz.jpg", []report.Code{"invalid_url"}, false, "malformed URL: bad percent escape (write % as %25)"},
		{"SlashInPassword", "https://user:SECRET/pw@images.example.com/a.jpg", []report.Code{"invalid_url"}, false, "malformed URL: invalid port after host (a password holding '/' must be percent-encoded)"},
		{"ZeroWidthSpace", "https://images.example.com/a.jpg\u200b", []report.Code{"invalid_url"}, false, "the URL holds whitespace or a control character: remove it or encode it"},
		{"NoBreakSpace", "https://images.example.com/a\u00a0b.jpg", []report.Code{"invalid_url"}, false, "the URL holds whitespace or a control character: remove it or encode it"},
		{"UnicodePath", "https://images.example.com/größe/a.jpg", nil, true, ""},
		{"UpperScheme", "HTTPS://images.example.com/a.jpg", nil, true, ""},
		{"SigV4Expired", "https://b.s3.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240105%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240105T101500Z&X-Amz-Expires=3600&X-Amz-Signature=abc",
			[]report.Code{"presigned_url"}, true, "temporary signed link (aws-sigv4) expired at 2024-01-05T11:15:00Z: host the image on a permanent public URL"},
		{"SigV4Live", "https://b.s3.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20251130%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20251130T120000Z&X-Amz-Expires=604800&X-Amz-Signature=abc",
			[]report.Code{"presigned_url"}, true, "temporary signed link (aws-sigv4) expires at 2025-12-07T12:00:00Z, before the marketplace fetches it: host the image on a permanent public URL"},
		{"InsecureAndSigned", "http://b.s3.amazonaws.com/a.jpg?AWSAccessKeyId=AKIA&Expires=1704450900&Signature=x",
			[]report.Code{"insecure_url", "presigned_url"}, true, "plain http: the marketplace may refuse it; serve the image over https"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkStatic(tc.url, now)
			var codes []report.Code
			for _, p := range got.problems {
				codes = append(codes, p.Code)
			}
			if len(codes) != len(tc.codes) {
				t.Fatalf("checkStatic(%q) codes = %v; want %v", tc.url, codes, tc.codes)
			}
			for i := range codes {
				if codes[i] != tc.codes[i] {
					t.Fatalf("checkStatic(%q) codes = %v; want %v", tc.url, codes, tc.codes)
				}
			}
			if got.fetchable != tc.fetchable {
				t.Errorf("checkStatic(%q).fetchable = %v; want %v", tc.url, got.fetchable, tc.fetchable)
			}
			if tc.message != "" && got.problems[0].Message != tc.message {
				t.Errorf("checkStatic(%q) message = %q; want %q", tc.url, got.problems[0].Message, tc.message)
			}
		})
	}
}

func TestCheckStatic_PlainURLDoesNotAllocate(t *testing.T) {
	now := time.Now()
	allocs := testing.AllocsPerRun(100, func() {
		checkStatic("https://images.example.com/catalog/EX-VITC-060.MAIN.jpg", now)
	})
	if allocs != 0 {
		t.Errorf("checkStatic(plain URL) allocates %v times; want 0", allocs)
	}
}

func TestCollector_CapsInReportOrder(t *testing.T) {
	c := newCollector(3)
	for _, row := range []int{9, 4, 7, 1, 8, 2} {
		c.add(report.Finding{Row: row, Cell: "A1", Code: report.CodeInvalidURL, Severity: report.SeverityError})
	}
	c.add(report.Finding{Row: 1, Cell: "A1", Code: report.CodeInsecureURL, Severity: report.SeverityWarning})
	got, omitted := c.findings()
	var rows []int
	for _, f := range got {
		rows = append(rows, f.Row)
	}
	if len(rows) != 3 || rows[0] != 1 || rows[1] != 1 || rows[2] != 2 || got[0].Code != report.CodeInsecureURL {
		t.Errorf("kept rows %v (first code %s); want [1 1 2] starting with insecure_url", rows, got[0].Code)
	}
	if omitted != 4 || c.errors != 6 || c.warnings != 1 || c.byCode[report.CodeInvalidURL] != 6 {
		t.Errorf("omitted %d, errors %d, warnings %d, invalid_url %d; want 4, 6, 1, 6", omitted, c.errors, c.warnings, c.byCode[report.CodeInvalidURL])
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"CONCURRENCY": "32", "PER_HOST_CONCURRENCY": "4", "REQUEST_TIMEOUT": "5s", "DEADLINE": "2m",
		"MAX_FILE_BYTES": "1048576", "MAX_FINDINGS": "50", "ENCODING": "windows-1252",
		"ALLOW_PRIVATE_NETWORKS": "true", "USER_AGENT": "acme-feeds/1.0",
	}
	got, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Concurrency: 32, PerHost: 4, RequestTimeout: 5 * time.Second, Deadline: 2 * time.Minute,
		MaxFileBytes: 1 << 20, MaxFindings: 50, Encoding: "windows-1252", AllowPrivate: true, UserAgent: "acme-feeds/1.0"}
	if got != want {
		t.Errorf("ConfigFromEnv = %+v; want %+v", got, want)
	}
	for name, bad := range map[string]string{"CONCURRENCY": "many", "REQUEST_TIMEOUT": "15", "ALLOW_LOOPBACK": "yes please", "MAX_FILE_BYTES": "-1"} {
		_, err := ConfigFromEnv(func(k string) string {
			if k == name {
				return bad
			}
			return ""
		})
		if err == nil {
			t.Errorf("ConfigFromEnv(%s=%q) = nil error; want one naming the variable", name, bad)
		} else if want := "setting " + name; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("ConfigFromEnv(%s=%q) error %q; want it to start %q", name, bad, err, want)
		}
	}
}

// An unreadable file still gets a complete report: the cause alone in the
// message, an empty byCode object and an empty findings list.
func TestRun_ErrorReportShape(t *testing.T) {
	p := New(Config{Offline: true})
	rep, err := p.Run(context.Background(), Input{Source: report.Source{Path: "empty.txt"}, Name: "empty.txt", Body: strings.NewReader("")})
	if err != nil {
		t.Fatal(err)
	}
	want := report.FileError{Code: report.ErrUnreadableFile, Message: "file is empty"}
	if rep.Status != report.StatusError || rep.Error == nil || *rep.Error != want {
		t.Fatalf("status %s, error %+v; want error, %+v", rep.Status, rep.Error, want)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"byCode":{}`, `"findings":[]`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("JSON report lacks %s: %s", s, b)
		}
	}
}

func TestConfigFromEnv_UnknownEncoding(t *testing.T) {
	_, err := ConfigFromEnv(func(k string) string {
		if k == "ENCODING" {
			return "utf16"
		}
		return ""
	})
	if err == nil || !strings.HasPrefix(err.Error(), `setting ENCODING="utf16": `) {
		t.Errorf("ConfigFromEnv(ENCODING=utf16) error = %v; want one naming the setting", err)
	}
}

func TestConfigFromEnv_UserAgentWithLineBreak(t *testing.T) {
	_, err := ConfigFromEnv(func(k string) string {
		if k == "USER_AGENT" {
			return "acme\r\nX-Injected: 1"
		}
		return ""
	})
	if want := `setting USER_AGENT="acme\r\nX-Injected: 1": want printable ASCII only, found byte 0x0d`; err == nil || err.Error() != want {
		t.Errorf("ConfigFromEnv(USER_AGENT with CRLF) error = %v; want %s", err, want)
	}
}
