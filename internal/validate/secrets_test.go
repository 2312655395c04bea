package validate

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/flatguard/flatguard/internal/report"
)

// Malformed URLs whose parse errors would quote a secret: neither the
// finding's URL nor its message may hold the secret (CONTRACT.md: no secret
// in any report, "including when the URL is malformed").
func TestRun_MalformedURLsHoldNoSecrets(t *testing.T) {
	cases := []struct {
		name   string
		url    string
		secret string
	}{
		{"SlashInPassword", "https://seller:SECRETSLASHPW/x@images.example.com/a.jpg", "SECRETSLASHPW"},
		{"SlashInPasswordNoUser", "https://:SECRETNOUSER/x@images.example.com/a.jpg", "SECRETNOUSER"},
		{"BackslashInPassword", `https://seller:SECRETBACKSLASH\x@images.example.com/a.jpg`, "SECRETBACKSLASH"},
		{"BadEscapeInPassword", "https://seller:SECRETESCAPE%zz@images.example.com/a.jpg", "SECRETESCAPE"},
		{"BadEscapeInPath", "https://images.example.com/a%zz.jpg?X-Amz-Signature=SECRETPATHESC", "SECRETPATHESC"},
		{"BadHostWithToken", "https://[::1/a.jpg?token=SECRETBRACKET", "SECRETBRACKET"},
		{"SpaceInSignature", "https://b.s3.amazonaws.com/a.jpg?X-Amz-Signature=SECRETSPACE x", "SECRETSPACE"},
	}
	urls := make([]string, len(cases))
	for i, tc := range cases {
		urls[i] = tc.url
	}
	p := New(Config{Offline: true})
	rep, err := p.Run(context.Background(), Input{Name: "feed.txt", Body: strings.NewReader(ssrfFeed(urls...))})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var js, text bytes.Buffer
	if err := report.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var codes []report.Code
			for _, f := range rep.Findings {
				if f.Row != 4+i {
					continue
				}
				codes = append(codes, f.Code)
				if strings.Contains(f.URL, tc.secret) || strings.Contains(f.Message, tc.secret) {
					t.Errorf("finding %s leaks %q: url %q, message %q", f.Code, tc.secret, f.URL, f.Message)
				}
			}
			if len(codes) != 1 || codes[0] != report.CodeInvalidURL {
				t.Errorf("codes for %s = %v; want [invalid_url]", tc.url, codes)
			}
			if strings.Contains(js.String(), tc.secret) || strings.Contains(text.String(), tc.secret) {
				t.Errorf("JSON or text report leaks %q", tc.secret)
			}
		})
	}
}
