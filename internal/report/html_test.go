package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/flatguard/flatguard/internal/browser"
)

// screenshots names a directory to keep the browser test's screenshots in,
// for a person to look at: go test ./internal/report -run Browser -screenshots /tmp/shots
var screenshots = flag.String("screenshots", "", "also save the HTML report screenshots in this directory")

// renderHTML runs WriteHTML and returns the page.
func renderHTML(t *testing.T, r *Report, thumbs []Thumbnail) string {
	t.Helper()
	var b strings.Builder
	if err := WriteHTML(&b, r, thumbs); err != nil {
		t.Fatalf("WriteHTML() error = %v", err)
	}
	return b.String()
}

func TestWriteHTMLEscapes(t *testing.T) {
	r := everyCodeReport()
	r.Findings[1].SKU = `<script>alert("sku")</script>`
	r.Findings[1].Message = `<img src=x onerror=alert(1)>`
	r.Findings[2].URL = `javascript:alert(document.domain)`
	r.Findings[3].Column = `"><b>column</b>`
	page := renderHTML(t, r, []Thumbnail{
		{URL: "https://cdn.acme-shoes.example/ok-1.jpg", Row: 4, Cell: "H4", SKU: "ACME-RUN-001"},
		{URL: "javascript:alert(2)", Row: 5, Cell: "H5"},
		{URL: "data:image/png;base64,AAAA", Row: 6, Cell: "H6"},
		{URL: "//cdn.acme-shoes.example/relative.jpg", Row: 7, Cell: "H7"},
	})
	for _, bad := range []string{`<script>alert`, `<img src=x`, `<b>column`, `href="javascript:`, `src="javascript:`, `src="data:`, "relative.jpg"} {
		if strings.Contains(page, bad) {
			t.Errorf("WriteHTML() output holds %q", bad)
		}
	}
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;sku&#34;)&lt;/script&gt;`,
		`&lt;img src=x onerror=alert(1)&gt;`,
		`<td class="url">javascript:alert(document.domain)</td>`,
		`<img src="https://cdn.acme-shoes.example/ok-1.jpg" loading="lazy"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("WriteHTML() output lacks %q", want)
		}
	}
	if n := strings.Count(page, "<img "); n != 1 {
		t.Errorf("WriteHTML() output has %d <img> elements; want 1 (only the https thumbnail)", n)
	}
}

// csp reads the page's Content-Security-Policy meta element.
var cspMeta = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)

func TestWriteHTMLSelfContained(t *testing.T) {
	page := renderHTML(t, everyCodeReport(), nil)
	m := cspMeta.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("WriteHTML() output has no Content-Security-Policy meta element")
	}
	policy := strings.ReplaceAll(m[1], "&#39;", "'")
	script := between(t, page, "<script>", "</script>")
	style := between(t, page, "<style>", "</style>")
	want := "default-src 'none'; script-src '" + cspHash(script) + "'; style-src '" + cspHash(style) + "'; img-src https: http:; base-uri 'none'; form-action 'none'"
	if policy != want {
		t.Errorf("Content-Security-Policy = %q; want %q (hashes of the page's own script and style)", policy, want)
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("WriteHTML() output has %d script elements; want 1", n)
	}
	for _, bad := range []string{"<link", "@import", "url(", " src=\"http", "onclick", "onload", "style=\""} {
		if strings.Contains(page, bad) {
			t.Errorf("WriteHTML() output holds %q; want a page that loads nothing but thumbnails", bad)
		}
	}
}

// between returns the text of page between the first open and the next close.
func between(t *testing.T, page, open, close string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, open)
	if !ok {
		t.Fatalf("WriteHTML() output has no %s", open)
	}
	text, _, ok := strings.Cut(rest, close)
	if !ok {
		t.Fatalf("WriteHTML() output has no %s", close)
	}
	return text
}

func TestWriteHTMLContent(t *testing.T) {
	r := everyCodeReport()
	r.FindingsOmitted = 42
	r.TagSkipped = true
	var thumbs []Thumbnail
	for i := range MaxThumbnails + 50 {
		thumbs = append(thumbs, Thumbnail{URL: fmt.Sprintf("https://cdn.acme-shoes.example/ok-%d.jpg", i), Row: 4 + i, Cell: fmt.Sprintf("H%d", 4+i)})
	}
	page := renderHTML(t, r, thumbs)
	for _, want := range []string{
		`<p id="verdict" class="verdict fail" data-status="fail">FAIL</p>`,
		`<h1 id="headline">FAIL: Flat.File.Shoes.txt: 10 of 24 image URLs fail, 1 not checked</h1>`,
		`<dd data-count="failedUrls">10</dd>`,
		`<dd data-count="warnings">5</dd>`,
		`<p id="omitted" class="note" data-omitted="42">42 more findings`,
		`id="tag-skipped"`,
		`<p><strong>Fix:</strong> ` + Fix(CodeShareLink) + `</p>`,
		`Showing the first 200 of 250 images that passed.`,
		`<td class="nowrap" data-sort="27000000007">AA7</td>`,
		`<td class="nowrap" data-sort="6000000007">F7</td>`,
		`HTTP 404`,
		`expires 2025-03-08 10:15 UTC · expired: true · scheme: aws-sigv4`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("WriteHTML() output lacks %q", want)
		}
	}
	if n := strings.Count(page, `loading="lazy"`); n != MaxThumbnails {
		t.Errorf("WriteHTML() shows %d lazy thumbnails; want %d", n, MaxThumbnails)
	}
	if n := strings.Count(page, "<tr class="); n != len(r.Findings) {
		t.Errorf("WriteHTML() table has %d rows; want %d", n, len(r.Findings))
	}
	for _, c := range allCodes {
		if !strings.Contains(page, fmt.Sprintf(`<article class="group" data-code="%s">`, c)) {
			t.Errorf("WriteHTML() has no group for %s", c)
		}
	}
}

func TestWriteHTMLError(t *testing.T) {
	page := renderHTML(t, errorReport(), nil)
	for _, want := range []string{
		`<p id="verdict" class="verdict error" data-status="error">ERROR</p>`,
		`data-error-code="malformed_file"`,
		`<span id="error-message">bare &#34; in non-quoted field</span>`,
		`<span id="error-row">57</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("WriteHTML() output lacks %q", want)
		}
	}
	if strings.Contains(page, `id="findings"`) {
		t.Errorf("WriteHTML() of an error report has a findings table")
	}
}

func TestCellKey(t *testing.T) {
	tests := []struct {
		cell string
		row  int
		want int64
	}{
		{"A1", 1, 1_000_000_001},
		{"B7", 7, 2_000_000_007},
		{"Z7", 7, 26_000_000_007},
		{"AA7", 7, 27_000_000_007},
		{"IU7", 7, 255_000_000_007},
		{"xfd9", 9, 16384_000_000_009},
		{"", 3, 3},
	}
	for _, tc := range tests {
		if got := cellKey(tc.cell, tc.row); got != tc.want {
			t.Errorf("cellKey(%q, %d) = %d; want %d", tc.cell, tc.row, got, tc.want)
		}
	}
}

// browserReport is everyCodeReport with more rows for two codes, so that a
// filter has several rows to show.
func browserReport() *Report {
	r := everyCodeReport()
	for i, row := range []int{14, 15, 16} {
		f := finding(CodeHTTPStatus, row, fmt.Sprintf("F%d", row), fmt.Sprintf("ACME-RUN-%03d", 11+i), "main_image_url",
			fmt.Sprintf("https://cdn.acme-shoes.example/img/run-%03d.jpg", 11+i), "answered 403 Forbidden")
		f.HTTPStatus = 403
		r.Findings = append(r.Findings, f)
	}
	for _, row := range []int{14, 15} {
		r.Findings = append(r.Findings, finding(CodeNoZoom, row, fmt.Sprintf("G%d", row), fmt.Sprintf("ACME-RUN-%03d", row-3), "other_image_url1",
			fmt.Sprintf("https://cdn.acme-shoes.example/img/run-%03d-side.jpg", row-3), "image is 900 x 900 px"))
	}
	SortFindings(r.Findings)
	r.Summary.Rows += 3
	r.Summary.ImageCells += 5
	r.Summary.UniqueURLs += 5
	r.Summary.FailedURLs += 3
	r.Summary.OKURLs += 2
	r.Summary.Errors += 3
	r.Summary.Warnings += 2
	r.Summary.ByCode[CodeHTTPStatus] += 3
	r.Summary.ByCode[CodeNoZoom] += 2
	return r
}

// imageServer serves the pages under test and PNG thumbnails on 127.0.0.1,
// and records the image requests.
type imageServer struct {
	*httptest.Server
	pages map[string]string
	mu    sync.Mutex
	hits  []string
}

func newImageServer(t *testing.T) *imageServer {
	s := &imageServer{pages: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page/{name}", func(w http.ResponseWriter, r *http.Request) {
		page, ok := s.pages[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("GET /img/{n}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.Path+" referer="+r.Header.Get("Referer"))
		s.mu.Unlock()
		servePNG(w, len(r.PathValue("n")))
	})
	// Chromium asks every site for a favicon; answer it so that the page's
	// console stays clean.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { servePNG(w, 0) })
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// servePNG answers a 600 by 400 PNG, tinted by seed.
func servePNG(w http.ResponseWriter, seed int) {
	img := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for y := range 400 {
		for x := range 600 {
			c := color.RGBA{uint8(40 + seed*50), uint8(90 + x/8), uint8(160 + y/6), 255}
			if (x+y)/40%2 == 0 {
				c = color.RGBA{240, 240, 235, 255}
			}
			img.Set(x, y, c)
		}
	}
	w.Header().Set("Content-Type", "image/png")
	png.Encode(w, img)
}

// startBrowser starts the headless Chromium, failing the test with a clear
// message when it is missing.
func startBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	b, err := browser.New(context.Background(), browser.Options{UserDataDir: t.TempDir()})
	if errors.Is(err, browser.ErrNotInstalled) {
		t.Fatalf("the HTML report test needs Chromium at %s: `make test` installs it (apt-get install -y chromium): %v", browser.DefaultPath, err)
	}
	if err != nil {
		t.Fatalf("browser.New() error = %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// run runs a chromedp action in b's tab, failing t on error.
func run[T any](t *testing.T, b *browser.Browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), browser.ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// visibleRows returns the code of each findings row the page shows.
func visibleRows(t *testing.T, b *browser.Browser) []string {
	t.Helper()
	return run(t, b, "read visible rows", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#findings tbody tr")].filter(r => r.getClientRects().length > 0).map(r => r.dataset.code)`))
}

// columnText returns the text of column i of each visible row, in order.
func columnText(t *testing.T, b *browser.Browser, i int) []string {
	t.Helper()
	return run(t, b, "read column", chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll("#findings tbody tr")].filter(r => r.getClientRects().length > 0).map(r => r.cells[%d].textContent)`, i)))
}

// summaryJSON returns the summary of r as WriteJSON writes it, without byCode.
func summaryJSON(t *testing.T, r *Report) map[string]int {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatalf("WriteJSON() error = %v", err)
	}
	var doc struct {
		Summary map[string]json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("decode WriteJSON() output: %v", err)
	}
	out := map[string]int{}
	for k, v := range doc.Summary {
		if k == "byCode" {
			continue
		}
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			t.Fatalf("summary.%s = %s; want an integer", k, v)
		}
		out[k] = n
	}
	return out
}

// screenshot takes a full-page PNG screenshot, checks it and saves it.
func screenshot(t *testing.T, b *browser.Browser, name string) {
	t.Helper()
	shot := run(t, b, "take screenshot", chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if size := img.Bounds().Size(); size.X < 1000 || size.Y < 300 || len(shot) < 20<<10 {
		t.Errorf("screenshot %s is %dx%d px, %d bytes; want at least 1000x300 px and 20 KiB", name, size.X, size.Y, len(shot))
	}
	dirs := []string{t.TempDir()}
	if *screenshots != "" {
		dirs = append(dirs, *screenshots)
	}
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			t.Fatalf("save screenshot: %v", err)
		}
	}
}

// click clicks the element sel selects.
func click(t *testing.T, b *browser.Browser, sel string) {
	t.Helper()
	run(t, b, "click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// checkProblems fails t for every script exception or console error a page
// produced since the last check.
func checkProblems(t *testing.T, b *browser.Browser) {
	t.Helper()
	for _, p := range b.TakeProblems() {
		t.Errorf("page problem: %s", p)
	}
}

// waitImages scrolls to the thumbnails, waits (up to 15 s) until every one
// has loaded, and returns their natural widths.
const waitImages = `(async () => {
  const imgs = [...document.querySelectorAll("#thumbnails img")];
  document.getElementById("thumbnails").scrollIntoView();
  for (let i = 0; i < 300 && !imgs.every(img => img.complete && img.naturalWidth > 0); i++) {
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  window.scrollTo(0, 0);
  return imgs.map(img => img.naturalWidth);
})()`

func TestWriteHTMLBrowser(t *testing.T) {
	srv := newImageServer(t)
	r := browserReport()
	var thumbs []Thumbnail
	for i := range 6 {
		thumbs = append(thumbs, Thumbnail{URL: fmt.Sprintf("%s/img/%s", srv.URL, strings.Repeat("x", i+1)), Row: 20 + i, Cell: fmt.Sprintf("F%d", 20+i), SKU: fmt.Sprintf("ACME-RUN-%03d", 20+i)})
	}
	srv.pages["fail.html"] = renderHTML(t, r, thumbs)
	srv.pages["error.html"] = renderHTML(t, errorReport(), nil)
	pass := &Report{SchemaVersion: 1, Status: StatusPass, Mode: ModeFull, Source: Source{Path: "feeds/shopify.csv"}, Format: "shopify", Encoding: "utf-8", Summary: Summary{Rows: 6, ImageCells: 6, UniqueURLs: 6, OKURLs: 6, ByCode: map[Code]int{}}}
	srv.pages["pass.html"] = renderHTML(t, pass, thumbs)
	b := startBrowser(t)

	t.Run("Fail", func(t *testing.T) {
		defer checkProblems(t, b)
		if err := b.Navigate(srv.URL + "/page/fail.html"); err != nil {
			t.Fatal(err)
		}
		if got := run(t, b, "read verdict", chromedp.Text(chromedp.CSS("#verdict"))); got != "FAIL" {
			t.Errorf("verdict = %q; want FAIL", got)
		}

		// The counts on the page are the JSON summary's.
		counts := run(t, b, "read counts", chromedp.Evaluate[map[string]int](
			`Object.fromEntries([...document.querySelectorAll("[data-count]")].map(e => [e.dataset.count, Number(e.textContent)]))`))
		want := summaryJSON(t, r)
		if len(counts) != len(want) {
			t.Errorf("page counts = %v; want %v", counts, want)
		}
		for k, v := range want {
			if counts[k] != v {
				t.Errorf("page count %s = %d; want %d (JSON summary)", k, counts[k], v)
			}
		}
		groups := run(t, b, "read group counts", chromedp.Evaluate[map[string]int](
			`Object.fromEntries([...document.querySelectorAll("[data-group-count]")].map(e => [e.dataset.groupCount, Number(e.textContent)]))`))
		for c, n := range r.Summary.ByCode {
			if groups[string(c)] != n {
				t.Errorf("page group count %s = %d; want %d (JSON byCode)", c, groups[string(c)], n)
			}
		}
		if got := visibleRows(t, b); len(got) != len(r.Findings) {
			t.Errorf("page shows %d rows; want %d", len(got), len(r.Findings))
		}

		// The thumbnails load from the test server, with no Referer.
		widths := run(t, b, "load thumbnails", chromedp.Evaluate[[]int](waitImages, chromedp.EvalAwaitPromise))
		if !slices.Equal(widths, []int{600, 600, 600, 600, 600, 600}) {
			t.Errorf("thumbnail widths = %v; want six loaded 600 px images", widths)
		}
		srv.mu.Lock()
		hits := slices.Clone(srv.hits)
		srv.mu.Unlock()
		if len(hits) != 6 {
			t.Errorf("image requests = %v; want 6", hits)
		}
		for _, h := range hits {
			if !strings.HasSuffix(h, " referer=") {
				t.Errorf("image request %q sent a Referer; want none", h)
			}
		}
		screenshot(t, b, "report-fail.png")

		// A code filter leaves exactly that code's rows.
		click(t, b, `#controls button[data-filter="http_status"]`)
		if got := visibleRows(t, b); !slices.Equal(got, []string{"http_status", "http_status", "http_status", "http_status"}) {
			t.Errorf("rows after the http_status filter = %v; want 4 http_status rows", got)
		}
		if got := run(t, b, "read shown", chromedp.Text(chromedp.CSS("#shown"))); got != "4" {
			t.Errorf("shown count = %q; want 4", got)
		}
		click(t, b, `#groups button[data-filter="no_zoom"]`)
		if got := visibleRows(t, b); !slices.Equal(got, []string{"no_zoom", "no_zoom", "no_zoom"}) {
			t.Errorf("rows after the no_zoom group button = %v; want 3 no_zoom rows", got)
		}
		pressed := run(t, b, "read pressed", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('button[aria-pressed="true"]')].map(b => b.dataset.filter)`))
		if !slices.Equal(pressed, []string{"no_zoom", "no_zoom"}) {
			t.Errorf("pressed filter buttons = %v; want both no_zoom buttons", pressed)
		}
		click(t, b, `#controls button[data-filter=""]`)
		if got := visibleRows(t, b); len(got) != len(r.Findings) {
			t.Errorf("rows after the All filter = %d; want %d", len(got), len(r.Findings))
		}

		// Free text filters on any column.
		run(t, b, "type filter", chromedp.SendKeys(chromedp.CSS("#q"), "acme-run-004"))
		if got := columnText(t, b, 1); !slices.Equal(got, []string{"F7", "AA7"}) {
			t.Errorf("cells after the text filter = %v; want [F7 AA7]", got)
		}
		run(t, b, "clear filter", chromedp.Evaluate[chromedp.Void](
			`(() => { const q = document.getElementById("q"); q.value = ""; q.dispatchEvent(new Event("input")); })()`))

		// A click on Row sorts rows descending (they start ascending).
		click(t, b, `th:nth-child(1) button`)
		var rows []int
		for _, s := range columnText(t, b, 0) {
			if s == "file" { // the file-level finding
				s = "0"
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("row cell %q is not a number", s)
			}
			rows = append(rows, n)
		}
		if rows[0] != 16 || rows[len(rows)-1] != 0 || !slices.IsSortedFunc(rows, func(a, b int) int { return b - a }) {
			t.Errorf("rows after sorting by Row = %v; want 16 down to 0 (the file-level finding)", rows)
		}
		// A click on Cell sorts by column, then row: B before AA.
		click(t, b, `th:nth-child(2) button`)
		cells := columnText(t, b, 1)
		wantCells := []string{"", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "F13", "F14", "F15", "F16", "G4", "G5", "G6", "G8", "G14", "G15", "AA7"}
		if !slices.Equal(cells, wantCells) {
			t.Errorf("cells after sorting by Cell = %v; want %v", cells, wantCells)
		}
		sorted := run(t, b, "read aria-sort", chromedp.Evaluate[[]string](`[...document.querySelectorAll("th")].map(th => th.getAttribute("aria-sort"))`))
		if !slices.Equal(sorted, []string{"none", "ascending", "none", "none", "none", "none"}) {
			t.Errorf("aria-sort = %v; want Cell ascending", sorted)
		}
		click(t, b, `th:nth-child(3) button`)
		skus := columnText(t, b, 2)
		if skus[0] != "" || skus[1] != "ACME-RUN-001" || skus[len(skus)-1] != "ACME-RUN-013" {
			t.Errorf("SKUs after sorting by SKU = %v; want \"\" first, ACME-RUN-013 last", skus)
		}
	})

	t.Run("Error", func(t *testing.T) {
		defer checkProblems(t, b)
		if err := b.Navigate(srv.URL + "/page/error.html"); err != nil {
			t.Fatal(err)
		}
		got := run(t, b, "read error", chromedp.Evaluate[[]string](
			`[document.getElementById("verdict").textContent, document.getElementById("file-error").dataset.errorCode, document.getElementById("error-message").textContent, document.getElementById("error-row").textContent, String(document.querySelectorAll("#findings, [data-count]").length)]`))
		want := []string{"ERROR", "malformed_file", `bare " in non-quoted field`, "57", "0"}
		if !slices.Equal(got, want) {
			t.Errorf("error page shows %q; want %q", got, want)
		}
		screenshot(t, b, "report-error.png")
	})

	t.Run("Pass", func(t *testing.T) {
		defer checkProblems(t, b)
		if err := b.Navigate(srv.URL + "/page/pass.html"); err != nil {
			t.Fatal(err)
		}
		got := run(t, b, "read pass page", chromedp.Evaluate[[]string](
			`[document.getElementById("verdict").textContent, document.getElementById("no-findings").textContent, document.querySelector('[data-count="okUrls"]').textContent]`))
		want := []string{"PASS", "No findings: every image URL answered with an image the marketplace takes.", "6"}
		if !slices.Equal(got, want) {
			t.Errorf("pass page shows %q; want %q", got, want)
		}
		widths := run(t, b, "load thumbnails", chromedp.Evaluate[[]int](waitImages, chromedp.EvalAwaitPromise))
		if len(widths) != 6 || slices.Contains(widths, 0) {
			t.Errorf("thumbnail widths = %v; want six loaded images", widths)
		}
		screenshot(t, b, "report-pass.png")
	})
}
