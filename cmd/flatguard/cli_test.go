package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/imagehost"
	"github.com/flatguard/flatguard/internal/report"
)

// imageHost is the local image host (internal/imagehost) answering for
// images.example.com over TLS from its own test CA. It serves a 1200x1200
// JPEG under /ok/, 404 under /missing/, never answers under /slow/, and
// counts the requests per path.
type imageHost struct {
	host   *imagehost.Host
	port   string
	caFile string
}

func newImageHost(t *testing.T) *imageHost {
	t.Helper()
	host, err := imagehost.Start("images.example.com")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Close)
	host.Mux.Handle("/missing/", http.NotFoundHandler())
	host.Mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second): // a safety net; the client gives up first
		}
	})
	h := &imageHost{host: host, caFile: filepath.Join(t.TempDir(), "ca.pem")}
	_, h.port, _ = net.SplitHostPort(host.HTTPSAddr())
	if err := os.WriteFile(h.caFile, host.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

// url returns an https URL of the host under its real name and the test
// server's port: --resolve keeps the port of the URL.
func (h *imageHost) url(path string) string {
	return "https://images.example.com:" + h.port + path
}

// resolve is the --resolve value that pins images.example.com to the server.
func (h *imageHost) resolve() string {
	return "images.example.com:" + h.port + ":127.0.0.1"
}

// Hits counts the requests the host served, by path.
func (h *imageHost) Hits() map[string]int {
	m := map[string]int{}
	for _, r := range h.host.Requests() {
		// "GET images.example.com:PORT/path?query"
		target := r[strings.IndexByte(r, ' ')+1:]
		path := target[strings.IndexByte(target, '/'):]
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		m[path]++
	}
	return m
}

func writeFeed(t *testing.T, dir, name string, urls ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id\ttitle\timage_link\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "sku-%d\tProduct %d\t%s\n", i+1, i+1, u)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLI runs `flatguard args...` in process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// decodeReports reads one JSON report, or several, one a line.
func decodeReports(t *testing.T, stdout string) []report.Report {
	t.Helper()
	var reps []report.Report
	dec := json.NewDecoder(strings.NewReader(stdout))
	for dec.More() {
		var r report.Report
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decode report: %v\n%s", err, stdout)
		}
		reps = append(reps, r)
	}
	return reps
}

// oneReport runs check with --format json and returns its only report.
func oneReport(t *testing.T, wantCode int, args ...string) report.Report {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"check", "--format", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("flatguard check %q exited %d; want %d\nstderr: %s\nstdout: %s", args, code, wantCode, stderr, stdout)
	}
	reps := decodeReports(t, stdout)
	if len(reps) != 1 {
		t.Fatalf("flatguard check %q wrote %d reports; want 1", args, len(reps))
	}
	return reps[0]
}

func checkInvariant(t *testing.T, s report.Summary) {
	t.Helper()
	if s.OKURLs+s.FailedURLs+s.NotChecked != s.UniqueURLs {
		t.Errorf("summary okUrls %d + failedUrls %d + notChecked %d != uniqueUrls %d", s.OKURLs, s.FailedURLs, s.NotChecked, s.UniqueURLs)
	}
}

// TestCLI_ResolveAndCAFile: an HTTPS image host under its real name on
// loopback, pinned with --resolve and trusted with --ca-file, passes; the
// same without --ca-file fails the TLS handshake.
func TestCLI_ResolveAndCAFile(t *testing.T) {
	h := newImageHost(t)
	u := h.url("/ok/shoe.jpg")
	feed := writeFeed(t, t.TempDir(), "feed.txt", u)

	rep := oneReport(t, exitPass, "--allow-loopback", "--resolve", h.resolve(), "--ca-file", h.caFile, feed)
	wantSummary := report.Summary{Rows: 1, ImageCells: 1, UniqueURLs: 1, OKURLs: 1, ByCode: map[report.Code]int{}}
	if rep.Status != report.StatusPass || rep.Mode != report.ModeFull || rep.Format != "google-merchant" {
		t.Errorf("report status, mode, format = %q, %q, %q; want pass, full, google-merchant", rep.Status, rep.Mode, rep.Format)
	}
	if diff := cmp.Diff(wantSummary, rep.Summary); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings = %+v; want none", rep.Findings)
	}

	rep = oneReport(t, exitFail, "--allow-loopback", "--resolve", h.resolve(), feed)
	want := []report.Finding{{
		Severity: report.SeverityError, Code: report.CodeUnreachable, Row: 2, Cell: "C2", SKU: "sku-1",
		Column: "image_link", URL: u,
		Message: "the TLS handshake with images.example.com failed",
		Detail: map[string]any{
			"reason": "tls", "host": "images.example.com",
			"error": "tls: failed to verify certificate: x509: certificate signed by unknown authority",
		},
	}}
	if diff := cmp.Diff(want, rep.Findings); diff != "" {
		t.Errorf("findings without --ca-file mismatch (-want +got):\n%s", diff)
	}
	if got := h.Hits()["/ok/shoe.jpg"]; got != 1 {
		t.Errorf("server saw %d requests for /ok/shoe.jpg; want 1 (the run with the CA)", got)
	}
}

func TestCLI_ExitCodes(t *testing.T) {
	h := newImageHost(t)
	dir := t.TempDir()
	pass := writeFeed(t, dir, "pass.txt", h.url("/ok/a.jpg"))
	fail := writeFeed(t, dir, "fail.txt", h.url("/missing/a.jpg"))
	binary := filepath.Join(dir, "photo.csv")
	if err := os.WriteFile(binary, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	netFlags := []string{"--allow-loopback", "--resolve", h.resolve(), "--ca-file", h.caFile}
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"Pass", append(netFlags, pass), exitPass, ""},
		{"Fail", append(netFlags, fail), exitFail, ""},
		{"PassAndFail", append(netFlags, pass, fail), exitFail, ""},
		{"Missing", append(netFlags, filepath.Join(dir, "nope.txt")), exitError, "flatguard check: stat " + filepath.Join(dir, "nope.txt") + ": no such file or directory\n"},
		{"NotAFlatFile", append(netFlags, "--offline", binary), exitError, ""},
		{"BadFlag", []string{"--bogus", pass}, exitError, "flag provided but not defined: -bogus\n"},
		{"BadResolve", []string{"--resolve", "images.example.com", pass}, exitError, "flatguard check: --resolve \"images.example.com\": want HOST:PORT:ADDR\n"},
		{"BadFormat", []string{"--format", "yaml", pass}, exitError, "flatguard check: --format \"yaml\": want text, json or html\n"},
		{"NoFiles", netFlags, exitError, "flatguard check: name at least one file or folder\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"check"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("flatguard check %q exited %d; want %d (stderr %q)", tc.args, code, tc.wantCode, stderr)
			}
			if tc.wantStderr != "" && !strings.HasPrefix(stderr, tc.wantStderr) {
				t.Errorf("flatguard check %q stderr = %q; want it to start %q", tc.args, stderr, tc.wantStderr)
			}
		})
	}
}

// TestCLI_NotAFlatFileReport: a file that cannot be read as a flat file
// gets an error report, and exit 2.
func TestCLI_NotAFlatFileReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "photo.csv")
	if err := os.WriteFile(path, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := oneReport(t, exitError, "--offline", path)
	if rep.Status != report.StatusError {
		t.Errorf("report status = %q; want error", rep.Status)
	}
	want := &report.FileError{Code: report.ErrUnsupportedFile, Message: "binary data, not a text flat file"}
	if diff := cmp.Diff(want, rep.Error); diff != "" {
		t.Errorf("report error mismatch (-want +got):\n%s", diff)
	}
}

// TestCLI_JSONSeveralFiles: with several files, --format json writes one
// report per line, in the order of the arguments, and flags may follow the
// files.
func TestCLI_JSONSeveralFiles(t *testing.T) {
	h := newImageHost(t)
	dir := t.TempDir()
	a := writeFeed(t, dir, "a.txt", h.url("/ok/a.jpg"))
	b := writeFeed(t, dir, "b.txt", h.url("/missing/b.jpg"), h.url("/ok/b.jpg"))
	code, stdout, stderr := runCLI(t, "check", a, "--format", "json", b, "--allow-loopback",
		"--resolve", h.resolve(), "--ca-file", h.caFile)
	if code != exitFail {
		t.Fatalf("exit %d; want %d\nstderr: %s", code, exitFail, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout has %d lines; want 2 (one report each)\n%s", len(lines), stdout)
	}
	type line struct {
		Path   string
		Status report.Status
		OK     int
		Failed int
	}
	var got []line
	for _, l := range lines {
		var r report.Report
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line is no JSON report: %v\n%s", err, l)
		}
		got = append(got, line{r.Source.Path, r.Status, r.Summary.OKURLs, r.Summary.FailedURLs})
	}
	want := []line{{a, report.StatusPass, 1, 0}, {b, report.StatusFail, 1, 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports mismatch (-want +got):\n%s", diff)
	}
}

// TestCLI_Folder: a folder argument checks every flat file in it, and
// nothing else (not images, not reports).
func TestCLI_Folder(t *testing.T) {
	dir := t.TempDir()
	writeFeed(t, dir, "b.txt", "https://images.example.com/b.jpg")
	writeFeed(t, dir, "a.csv", "https://images.example.com/a.jpg")
	writeFeed(t, dir, "c.tsv", "https://images.example.com/c.jpg")
	for _, other := range []string{"a.csv.report.json", "a.csv.report.html", "shoe.jpg", "notes.md"} {
		if err := os.WriteFile(filepath.Join(dir, other), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "check", "--offline", "--format", "json", dir)
	if code != exitPass {
		t.Fatalf("exit %d; want %d\nstderr: %s", code, exitPass, stderr)
	}
	var paths []string
	for _, r := range decodeReports(t, stdout) {
		paths = append(paths, r.Source.Path)
	}
	want := []string{filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "c.tsv")}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("checked files mismatch (-want +got):\n%s", diff)
	}
}

// TestCLI_Deadline: a time budget that runs out while the host keeps every
// request waiting leaves every URL not_checked, each with a finding, and
// the file fails.
func TestCLI_Deadline(t *testing.T) {
	h := newImageHost(t)
	var urls []string
	for i := range 40 {
		urls = append(urls, h.url(fmt.Sprintf("/slow/%d.jpg", i)))
	}
	feed := writeFeed(t, t.TempDir(), "feed.txt", urls...)
	rep := oneReport(t, exitFail, "--allow-loopback", "--resolve", h.resolve(), "--ca-file", h.caFile,
		"--deadline", "300ms", "--timeout", "1m", feed)
	want := report.Summary{
		Rows: 40, ImageCells: 40, UniqueURLs: 40, NotChecked: 40, Errors: 40,
		ByCode: map[report.Code]int{report.CodeNotChecked: 40},
	}
	if diff := cmp.Diff(want, rep.Summary); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	checkInvariant(t, rep.Summary)
	for i, f := range rep.Findings {
		if f.Code != report.CodeNotChecked || f.Row != i+2 || f.URL != urls[i] ||
			f.Message != "the time budget ran out before this URL was checked: check the file again" {
			t.Errorf("finding %d = %+v; want not_checked on row %d for %s", i, f, i+2, urls[i])
		}
	}
}

// TestCLI_Offline sends no request and reports offline mode.
func TestCLI_Offline(t *testing.T) {
	h := newImageHost(t)
	feed := writeFeed(t, t.TempDir(), "feed.txt", h.url("/ok/a.jpg"), h.url("/missing/b.jpg"), "http://images.example.com/c.jpg")
	rep := oneReport(t, exitPass, "--offline", "--allow-loopback", "--resolve", h.resolve(), "--ca-file", h.caFile, feed)
	if rep.Mode != report.ModeOffline {
		t.Errorf("mode = %q; want offline", rep.Mode)
	}
	want := report.Summary{
		Rows: 3, ImageCells: 3, UniqueURLs: 3, NotChecked: 3, Warnings: 1,
		ByCode: map[report.Code]int{report.CodeInsecureURL: 1},
	}
	if diff := cmp.Diff(want, rep.Summary); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	checkInvariant(t, rep.Summary)
	if hits := h.Hits(); len(hits) != 0 {
		t.Errorf("offline run made requests: %v; want none", hits)
	}
}

// TestCLI_SameURLManyRows: one URL in 500 rows is fetched once, and every
// row gets the finding.
func TestCLI_SameURLManyRows(t *testing.T) {
	h := newImageHost(t)
	missing := h.url("/missing/shared.jpg")
	urls := make([]string, 500)
	for i := range urls {
		urls[i] = missing
	}
	urls[250] = h.url("/ok/other.jpg")
	feed := writeFeed(t, t.TempDir(), "feed.txt", urls...)
	rep := oneReport(t, exitFail, "--allow-loopback", "--resolve", h.resolve(), "--ca-file", h.caFile, feed)

	want := report.Summary{
		Rows: 500, ImageCells: 500, UniqueURLs: 2, OKURLs: 1, FailedURLs: 1, Errors: 499,
		ByCode: map[report.Code]int{report.CodeHTTPStatus: 499},
	}
	if diff := cmp.Diff(want, rep.Summary); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	var rows []int
	for _, f := range rep.Findings {
		if f.Code != report.CodeHTTPStatus || f.HTTPStatus != 404 || f.URL != missing || f.Message != "the server answered 404 Not Found" {
			t.Errorf("finding on row %d = %+v; want http_status 404 for %s", f.Row, f, missing)
		}
		rows = append(rows, f.Row)
	}
	var wantRows []int
	for i := range 500 {
		if i != 250 {
			wantRows = append(wantRows, i+2)
		}
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("finding rows mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"/missing/shared.jpg": 1, "/ok/other.jpg": 1}, h.Hits()); diff != "" {
		t.Errorf("requests per path mismatch (-want +got):\n%s", diff)
	}
}

// TestCLI_TextFormat prints a human summary by default.
func TestCLI_TextFormat(t *testing.T) {
	feed := writeFeed(t, t.TempDir(), "feed.txt", "https://images.example.com/a.jpg?X-Amz-Signature=abc123&X-Amz-Credential=AKIAX")
	code, stdout, _ := runCLI(t, "check", "--offline", feed)
	if code != exitFail {
		t.Errorf("exit %d; want %d", code, exitFail)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	found := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "presigned_url") {
			found = true
		}
	}
	if !found || strings.Contains(stdout, "abc123") || strings.Contains(stdout, "AKIAX") {
		t.Errorf("text report = %q; want a presigned_url line and no secret", stdout)
	}
}

// Settings that cannot mean anything are refused before any file is read.
func TestCLI_BadSettings(t *testing.T) {
	feedFile := writeFeed(t, t.TempDir(), "feed.txt", "https://images.example.com/ok/a.jpg")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"NegativeTimeout", []string{"--timeout", "-1s"}, "flatguard check: --timeout -1s: want a positive duration such as 15s\n"},
		{"NegativeDeadline", []string{"--deadline", "-5s"}, "flatguard check: --deadline -5s: want a positive duration, or 0 for none\n"},
		{"ZeroConcurrency", []string{"--concurrency", "0"}, "flatguard check: --concurrency 0: want 1 or more\n"},
		{"NegativePerHost", []string{"--per-host", "-3"}, "flatguard check: --per-host -3: want 1 or more\n"},
		{"ZeroFindings", []string{"--max-findings", "0"}, "flatguard check: --max-findings 0: want 1 or more\n"},
		{"NegativeFileBytes", []string{"--max-file-bytes", "-1"}, "flatguard check: --max-file-bytes -1: want 1 or more\n"},
		{"UnknownEncoding", []string{"--encoding", "utf16"}, `flatguard check: --encoding "utf16": want one of utf-8, utf-8-bom, utf-16le, utf-16be, windows-1252, shift_jis, gbk, macintosh` + "\n"},
		{"UserAgentCRLF", []string{"--user-agent", "a\r\nX-Injected: 1"}, `flatguard check: --user-agent "a\r\nX-Injected: 1": want printable ASCII only, found byte 0x0d` + "\n"},
		{"ResolveNotIP", []string{"--resolve", "a.invalid:443:notanip"}, `flatguard check: --resolve "a.invalid:443:notanip": "notanip" is not an IP address` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append(append([]string{"check", "--offline"}, tc.args...), feedFile)...)
			if code != exitError || stderr != tc.want || stdout != "" {
				t.Errorf("flatguard check %v = exit %d, stdout %q, stderr %q; want exit 2, no stdout, stderr %q", tc.args, code, stdout, stderr, tc.want)
			}
		})
	}
}

// Where --output puts reports: never two reports in one file, never over
// the input, the same layout whatever a folder holds.
func TestCLI_OutputPlaces(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := writeFeed(t, filepath.Join(dir, "a"), "feed.txt", "https://images.example.com/ok/a.jpg")
	b := writeFeed(t, filepath.Join(dir, "b"), "feed.txt", "https://images.example.com/ok/b.jpg")

	out := filepath.Join(dir, "same-name")
	if code, _, stderr := runCLI(t, "check", "--offline", "--format", "json", "--output", out, a, b); code != exitPass {
		t.Fatalf("exit %d (%s); want 0", code, stderr)
	}
	for _, name := range []string{"feed.txt.report.json", "feed-2.txt.report.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("report %s: %v", name, err)
		}
	}

	existing := filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "check", "--offline", "--output", existing, a); code != exitPass {
		t.Fatalf("exit %d (%s); want 0", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(existing, "feed.txt.report.txt")); err != nil {
		t.Errorf("one file into an existing folder: %v", err)
	}

	folderOut := filepath.Join(dir, "from-folder")
	if code, _, stderr := runCLI(t, "check", "--offline", "--output", folderOut, filepath.Join(dir, "a")); code != exitPass {
		t.Fatalf("exit %d (%s); want 0", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(folderOut, "feed.txt.report.txt")); err != nil {
		t.Errorf("a folder holding one file: %v", err)
	}

	code, _, stderr := runCLI(t, "check", "--offline", "--output", a, a)
	if want := "flatguard check: --output " + a + " is the file being checked\n"; code != exitError || stderr != want {
		t.Errorf("--output onto the input: exit %d, stderr %q; want 2, %q", code, stderr, want)
	}
}

// Ctrl-C still prints the report, says the run was cut short and exits 2.
func TestCLI_Interrupted(t *testing.T) {
	host := newImageHost(t)
	feedFile := writeFeed(t, t.TempDir(), "feed.txt", host.url("/slow/a.jpg"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"check", "--allow-loopback", "--format", "json", "--resolve", host.resolve(), "--ca-file", host.caFile, feedFile}, &stdout, &stderr)
	if want := "flatguard check: interrupted: the URLs not checked yet are reported as not_checked\n"; code != exitError || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, stderr.String(), want)
	}
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no report on stdout: %v", err)
	}
	if rep.Summary.NotChecked != 1 || len(rep.Findings) != 1 || rep.Findings[0].Code != report.CodeNotChecked {
		t.Fatalf("summary %+v, findings %+v; want the one URL not_checked", rep.Summary, rep.Findings)
	}
	if want := "the check was interrupted before this URL was checked: check the file again"; rep.Findings[0].Message != want {
		t.Errorf("message = %q; want %q", rep.Findings[0].Message, want)
	}
}

// Checking a folder that holds earlier reports checks only the flat files,
// however often it runs.
func TestCLI_FolderWithReports(t *testing.T) {
	dir := t.TempDir()
	writeFeed(t, dir, "feed.txt", "https://images.example.com/ok/a.jpg")
	for run := range 2 {
		if code, _, stderr := runCLI(t, "check", "--offline", "--output", dir, dir); code != exitPass {
			t.Fatalf("run %d: exit %d (%s); want 0", run+1, code, stderr)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"feed.txt", "feed.txt.report.txt"}; !slices.Equal(names, want) {
		t.Errorf("folder holds %v; want %v", names, want)
	}
}
