package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flatguard/flatguard/internal/report"
)

// feedBenchVersion keys the cache of generated benchmark files; change it
// when the generator changes.
const feedBenchVersion = "v2"

// feedBenchRowBytes makes 120,000 rows come to about 100 MB.
const feedBenchRowBytes = 873

// benchFeed returns the path of an Amazon fptcustom export of about size
// bytes (ten distinct image URLs a row), generating it into a cache under
// os.TempDir() on first use.
func benchFeed(b *testing.B, size int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "flatguard-feedbench-"+feedBenchVersion)
	path := filepath.Join(dir, fmt.Sprintf("fptcustom-%dMB.txt", size>>20))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	head, err := os.ReadFile(filepath.Join("..", "..", "testdata", "corpus", "amazon_fptcustom_health_2019.1209_header_plus_synthetic.cp1252.txt"))
	if err != nil {
		b.Fatal(err)
	}
	tmp, err := os.CreateTemp(dir, "gen-*")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	lines := bytes.SplitAfterN(head, []byte("\r\n"), 4)
	n, _ := w.Write(bytes.Join(lines[:3], nil))
	for i := 0; n < size; i++ {
		m, _ := w.Write(benchRow(i))
		n += m
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchRow is data row i: 272 columns, ten distinct image URLs on hosts and
// paths as sellers write them (some with queries), every 97th row with a
// plain-http URL so the run has findings.
func benchRow(i int) []byte {
	cells := make([]string, 272)
	cells[0] = "HEALTH_PERSONAL_CARE"
	cells[1] = fmt.Sprintf("EX-SKU-%06d", i)
	cells[2] = "ExampleBrand"
	cells[5] = "Vitamin C 1000 mg, 60 Tablets"
	cells[27], cells[28] = "9.99", "25"
	urls := []string{
		"https://m.media-amazon.com/images/I/%06dA1.jpg",
		"https://cdn.shopify.com/s/files/1/0123/products/%06d-2.jpg?v=1763399495",
		"https://img.example-store.com/c/%06d/back.png",
		"https://res.cloudinary.com/demo/image/upload/p%06d_4.jpg",
		"https://bucket.s3.amazonaws.com/m/%06d/5.jpg",
		"https://img.example-store.com/c/%06d/side.jpg?width=1500",
		"https://static.example.net/i/%06d/7.jpeg",
		"https://cdn.example.org/img/%06d-8.jpg",
		"https://img.example-store.com/c/%06d/detail.tif",
		"https://m.media-amazon.com/images/I/%06dS1.jpg",
	}
	for k, u := range urls {
		cells[29+k] = fmt.Sprintf(u, i)
	}
	if i%97 == 0 {
		cells[31] = strings.Replace(cells[31], "https:", "http:", 1)
	}
	cells[39], cells[43] = "Child", "Update"
	row := strings.Join(cells, "\t")
	pad := max(0, feedBenchRowBytes-len(row)-2)
	cells[45] = strings.Repeat("A product description a seller would write. ", pad/45+1)[:pad]
	return []byte(strings.Join(cells, "\t") + "\r\n")
}

// buildCLI builds the flatguard binary once per benchmark.
func buildCLI(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "flatguard")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childRun is one finished child process.
type childRun struct {
	wall   time.Duration
	rssKiB int64
	stdout []byte
}

// runChild runs name with args, stdout captured (or discarded), and returns
// its wall time and peak resident set size.
func runChild(b *testing.B, keepStdout bool, name string, args ...string) childRun {
	b.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	if keepStdout {
		cmd.Stdout = &out
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	// The CLI exits 1 when a file fails; only a crash or 2 is an error.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		b.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = int64(ru.Maxrss) // KiB on Linux
	}
	return childRun{wall: wall, rssKiB: rss, stdout: out.Bytes()}
}

// checkRun runs `flatguard check --offline --format json` on path and
// returns the run and its report.
func checkRun(b *testing.B, bin, path string) (childRun, *report.Report) {
	b.Helper()
	r := runChild(b, true, bin, "check", "--offline", "--format", "json", path)
	var rep report.Report
	if err := json.Unmarshal(r.stdout, &rep); err != nil {
		b.Fatalf("flatguard check %s: stdout is not a JSON report: %v", path, err)
	}
	if rep.Status == report.StatusError {
		b.Fatalf("flatguard check %s: status error: %+v", path, rep.Error)
	}
	return r, &rep
}

// BenchmarkCLIOffline100MB runs the CLI end to end, offline, on a ~100 MB
// Amazon template export of ~120,000 rows and ten distinct image URLs a row,
// and compares it with GNU cut splitting the same file. Metrics: MB/s of the
// CLI, its peak RSS, the ratio of its wall time to cut's (target ≤ 3), and,
// from a second run on a 10 MB file, the bytes of RSS each further distinct
// URL costs.
func BenchmarkCLIOffline100MB(b *testing.B) {
	const size = 100 << 20
	b.StopTimer()
	big, small := benchFeed(b, size), benchFeed(b, 10<<20)
	bin := buildCLI(b)
	fi, err := os.Stat(big)
	if err != nil {
		b.Fatal(err)
	}

	// The 10 MB run: the baseline of the memory growth.
	_, _ = checkRun(b, bin, small) // warm the page cache
	run10, rep10 := checkRun(b, bin, small)
	_ = runChild(b, false, "cut", "-f5-14", big) // warm the page cache
	b.StartTimer()

	var cliWall, cutWall time.Duration
	var rss100 int64
	var rep100 *report.Report
	b.SetBytes(fi.Size())
	for i := 0; i < b.N; i++ {
		r, rep := checkRun(b, bin, big)
		cliWall += r.wall
		rss100 = max(rss100, r.rssKiB)
		rep100 = rep

		b.StopTimer()
		c := runChild(b, false, "cut", "-f5-14", big)
		cutWall += c.wall
		b.StartTimer()
	}
	b.StopTimer()

	if len(rep100.Findings) > 10000 {
		b.Errorf("report lists %d findings; want at most 10000", len(rep100.Findings))
	}
	urls100, urls10 := rep100.Summary.UniqueURLs, rep10.Summary.UniqueURLs
	perURL := float64(rss100-run10.rssKiB) * 1024 / float64(urls100-urls10)
	sec := cliWall.Seconds() / float64(b.N)
	b.ReportMetric(float64(fi.Size())/1e6/sec, "MB/s")
	b.ReportMetric(sec*1000, "wall-ms")
	b.ReportMetric(cutWall.Seconds()/float64(b.N)*1000, "cut-ms")
	b.ReportMetric(cliWall.Seconds()/cutWall.Seconds(), "x-cut")
	b.ReportMetric(float64(rss100)/1024, "rss100-MiB")
	b.ReportMetric(float64(run10.rssKiB)/1024, "rss10-MiB")
	b.ReportMetric(perURL, "B/url")
	// The targets: within 3x of cut on the same file, under 100 MB.
	if ratio := cliWall.Seconds() / cutWall.Seconds(); ratio > 3 {
		b.Errorf("flatguard check --offline took %.2fx as long as cut -f5-14; want at most 3x", ratio)
	}
	if rss100 >= 100*1024 {
		b.Errorf("peak RSS on the 100 MB file %d KiB; want under 100 MB", rss100)
	}
	b.ReportMetric(float64(rep100.Summary.Rows), "rows")
	b.ReportMetric(float64(urls100), "urls")
}

// BenchmarkCheckOffline runs `flatguard check --offline` in-process on the
// 10 MB and 100 MB files, for profiling with -cpuprofile and -memprofile.
func BenchmarkCheckOffline(b *testing.B) {
	for _, size := range []int{10 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			path := benchFeed(b, size)
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				var out bytes.Buffer
				if code := run(context.Background(), []string{"check", "--offline", "--format", "json", path}, &out, io.Discard); code > 1 {
					b.Fatalf("flatguard check exit %d", code)
				}
			}
		})
	}
}
