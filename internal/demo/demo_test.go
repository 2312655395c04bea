package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The demo is what a new user sees first: both verdicts, the findings of
// the failing file and both notifications must be there.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	dir := t.TempDir()
	if err := Run(ctx, &out, dir); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"=== s3://flatguard-demo-uploads/feeds/LAB CHEMICAL 2025.txt.report.json  tag flatguard-status=pass",
		"PASS: LAB CHEMICAL 2025.txt: 4 image URLs answer with images",
		"=== s3://flatguard-demo-uploads/feeds/health+vitamins 2019.txt.report.json  tag flatguard-status=fail",
		"FAIL: health+vitamins 2019.txt: 6 of 11 image URLs fail",
		"ERROR presigned_url (3)",
		"  row 5 AF5 sku EX-VITC-060: the server answered 404 Not Found",
		"  row 7 AF7 sku EX-VITC-180: the URL holds whitespace or a control character: remove it or encode it",
		"=== notification 1: [PASS] LAB CHEMICAL 2025.txt: 4 image URLs ok",
		"=== notification 2: [FAIL] health+vitamins 2019.txt: 6 of 11 image URLs fail",
		"  attribute status = fail",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "health+vitamins 2019.txt.report.html"))
	if err != nil {
		t.Fatalf("the failing file's HTML report was not saved: %v", err)
	}
	if !bytes.Contains(page, []byte(`data-status="fail"`)) || !bytes.Contains(page, []byte("EX-VITC-060")) {
		t.Error("the saved HTML report lacks the verdict or the failing rows")
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out.String())
	}
}
