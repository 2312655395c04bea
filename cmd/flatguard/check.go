package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/flatguard/flatguard/internal/feed"
	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
	"github.com/flatguard/flatguard/internal/validate"
)

// checkFlags are the command-line settings of `flatguard check`.
type checkFlags struct {
	cfg     validate.Config
	format  string
	output  string
	resolve multiFlag
	caFile  string
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func newCheckFlagSet(f *checkFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &f.cfg
	fs.StringVar(&f.format, "format", "text", "output `format`: text, json or html")
	fs.StringVar(&f.output, "output", "", "write the report to `PATH` instead of stdout; a folder (one report per file) when several files or a folder are checked, or PATH is a folder or ends in /")
	fs.BoolVar(&c.Offline, "offline", false, "send no request: only look at the URLs as written")
	fs.BoolVar(&c.AllowLoopback, "allow-loopback", false, "let requests reach loopback addresses (local tests and the demo only)")
	fs.BoolVar(&c.AllowPrivate, "allow-private", false, "let requests reach private (RFC 1918, CGNAT, unique-local) addresses")
	fs.IntVar(&c.Concurrency, "concurrency", validate.DefaultConcurrency, "requests in flight across all hosts")
	fs.IntVar(&c.PerHost, "per-host", validate.DefaultPerHost, "requests in flight to one host")
	fs.DurationVar(&c.RequestTimeout, "timeout", validate.DefaultRequestTimeout, "time for one request to a URL, redirects included (a transient failure is tried up to 3 times)")
	fs.DurationVar(&c.Deadline, "deadline", 0, "time budget for all URL checks; URLs left are reported not_checked (0: none)")
	fs.StringVar(&c.UserAgent, "user-agent", probe.DefaultUserAgent(), "User-Agent header sent on every request")
	fs.Int64Var(&c.MaxFileBytes, "max-file-bytes", validate.DefaultMaxFileBytes, "larger files are refused with file_too_large")
	fs.IntVar(&c.MaxFindings, "max-findings", validate.DefaultMaxFindings, "findings listed in a report (the summary counts all)")
	fs.StringVar(&c.Encoding, "encoding", "", "force the text `encoding` (utf-8, windows-1252, ...); default: detect")
	fs.Var(&f.resolve, "resolve", "pin `HOST:PORT:ADDR` as curl does (repeatable)")
	fs.StringVar(&f.caFile, "ca-file", "", "trust the CA certificates in `PEM` instead of the system roots")
	fs.Usage = func() {
		fmt.Fprint(stderr, checkHelp)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before, between or after
// the file arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return files, nil
		}
		files = append(files, args[0])
		args = args[1:]
	}
}

// runCheck is `flatguard check`.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := newCheckFlagSet(&f, stderr)
	paths, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		return exitError
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "flatguard check: name at least one file or folder")
		return exitError
	}
	if err := f.validate(); err != nil {
		fmt.Fprintf(stderr, "flatguard check: %v\n", err)
		return exitError
	}
	if f.format != "text" && f.format != "json" && f.format != "html" {
		fmt.Fprintf(stderr, "flatguard check: --format %q: want text, json or html\n", f.format)
		return exitError
	}
	opts, err := f.probeOptions()
	if err != nil {
		fmt.Fprintf(stderr, "flatguard check: %v\n", err)
		return exitError
	}
	files, err := expand(paths)
	if err != nil {
		fmt.Fprintf(stderr, "flatguard check: %v\n", err)
		return exitError
	}
	if f.format == "html" && len(files) > 1 && f.output == "" {
		fmt.Fprintln(stderr, "flatguard check: --format html with several files needs --output DIR (one page per file)")
		return exitError
	}
	dests, err := f.destinations(paths, files)
	if err != nil {
		fmt.Fprintf(stderr, "flatguard check: %v\n", err)
		return exitError
	}
	p := validate.New(f.cfg, opts...)
	defer p.Close()

	code := exitPass
	for i, path := range files {
		rep, err := checkFile(ctx, p, path, progressLine(stderr, filepath.Base(path)))
		if err != nil {
			fmt.Fprintf(stderr, "flatguard check: %s: %v\n", path, err)
			code = exitError
			continue
		}
		if err := f.write(stdout, rep, dests[i], len(files) > 1); err != nil {
			fmt.Fprintf(stderr, "flatguard check: %v\n", err)
			code = exitError
			continue
		}
		code = max(code, statusCode(rep.Status))
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "flatguard check: interrupted: the URLs not checked yet are reported as not_checked")
		return exitError
	}
	return code
}

func statusCode(s report.Status) int {
	switch s {
	case report.StatusPass:
		return exitPass
	case report.StatusFail:
		return exitFail
	}
	return exitError
}

// validate refuses settings that cannot mean anything, rather than quietly
// falling back to a default.
func (f *checkFlags) validate() error {
	c := f.cfg
	switch {
	case c.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: want 1 or more", c.Concurrency)
	case c.PerHost < 1:
		return fmt.Errorf("--per-host %d: want 1 or more", c.PerHost)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("--timeout %s: want a positive duration such as 15s", c.RequestTimeout)
	case c.Deadline < 0:
		return fmt.Errorf("--deadline %s: want a positive duration, or 0 for none", c.Deadline)
	case c.MaxFileBytes < 1:
		return fmt.Errorf("--max-file-bytes %d: want 1 or more", c.MaxFileBytes)
	case c.MaxFindings < 1:
		return fmt.Errorf("--max-findings %d: want 1 or more", c.MaxFindings)
	}
	if err := validate.CheckUserAgent(c.UserAgent); err != nil {
		return fmt.Errorf("--user-agent %q: %v", c.UserAgent, err)
	}
	if c.Encoding != "" {
		if err := feed.CheckEncoding(c.Encoding); err != nil {
			return fmt.Errorf("--encoding %q: want one of utf-8, utf-8-bom, utf-16le, utf-16be, windows-1252, shift_jis, gbk, macintosh", c.Encoding)
		}
	}
	return nil
}

// probeOptions turns --resolve and --ca-file into checker settings.
func (f *checkFlags) probeOptions() ([]validate.Option, error) {
	pins := map[string]string{}
	for _, r := range f.resolve {
		i := strings.LastIndex(r, ":")
		if i <= 0 {
			return nil, fmt.Errorf("--resolve %q: want HOST:PORT:ADDR", r)
		}
		hostPort, addr := r[:i], strings.Trim(r[i+1:], "[]")
		if j := strings.LastIndex(hostPort, ":"); j <= 0 {
			return nil, fmt.Errorf("--resolve %q: want HOST:PORT:ADDR", r)
		}
		if _, err := netip.ParseAddr(addr); err != nil {
			return nil, fmt.Errorf("--resolve %q: %q is not an IP address", r, addr)
		}
		pins[strings.ToLower(hostPort)] = addr
	}
	var roots *x509.CertPool
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %v", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", f.caFile)
		}
	}
	return []validate.Option{validate.WithProbe(func(c *probe.Config) {
		if len(pins) > 0 {
			c.Resolve = pins
		}
		if roots != nil {
			c.RootCAs = roots
		}
	})}, nil
}

// expand replaces folders by the flat files in them.
func expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		n := len(files)
		for _, e := range entries {
			if e.Type().IsRegular() && isFlatFile(e.Name()) {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == n {
			return nil, fmt.Errorf("%s: no flat file (.txt, .tsv, .csv, .xlsx, .xlsm) in it", p)
		}
	}
	return files, nil
}

func isFlatFile(name string) bool {
	// Reports flatguard wrote, the Lambda's and --output's text ones too.
	if handler.IsReportKey(name) || strings.HasSuffix(name, ".report.txt") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".txt", ".tsv", ".csv", ".xlsx", ".xlsm", ".tab":
		return true
	}
	return false
}

// checkFile runs the pipeline on one local file.
func checkFile(ctx context.Context, p *validate.Pipeline, path string, progress func(int, int)) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, validate.Input{
		Source:   report.Source{Path: path, Size: st.Size()},
		Name:     path,
		Body:     f,
		Progress: progress,
	})
}

// destinations says where each file's report goes: "" for stdout, or a
// file. --output names a folder when several files are checked, when a
// folder is checked (however many files it holds), when it is an existing
// folder or ends in '/'; reports in a folder are named after their files,
// with -2, -3 ... when two files share a name.
func (f *checkFlags) destinations(paths, files []string) ([]string, error) {
	dests := make([]string, len(files))
	if f.output == "" {
		return dests, nil
	}
	dir := len(files) > 1 || strings.HasSuffix(f.output, "/")
	if st, err := os.Stat(f.output); err == nil && st.IsDir() {
		dir = true
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			dir = true
		}
	}
	if !dir {
		if st, err := os.Stat(f.output); err == nil {
			if in, err := os.Stat(files[0]); err == nil && os.SameFile(st, in) {
				return nil, fmt.Errorf("--output %s is the file being checked", f.output)
			}
		}
		dests[0] = f.output
		return dests, nil
	}
	if err := os.MkdirAll(f.output, 0o755); err != nil {
		return nil, err
	}
	ext := map[string]string{"json": handler.JSONSuffix, "html": handler.HTMLSuffix}[f.format]
	if ext == "" {
		ext = ".report.txt"
	}
	taken := map[string]bool{}
	for i, file := range files {
		name := filepath.Base(file)
		for n := 2; taken[name]; n++ {
			ext := filepath.Ext(filepath.Base(file))
			name = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(filepath.Base(file), ext), n, ext)
		}
		taken[name] = true
		dests[i] = filepath.Join(f.output, name+ext)
	}
	return dests, nil
}

// write renders one report to dst, or to stdout when dst is "".
func (f *checkFlags) write(stdout io.Writer, rep *report.Report, dst string, several bool) error {
	var b bytes.Buffer
	switch {
	case f.format == "html":
		if err := report.WriteHTML(&b, rep, rep.Passed); err != nil {
			return err
		}
	case f.format == "json" && several && dst == "":
		if err := json.NewEncoder(&b).Encode(rep); err != nil {
			return err
		}
	case f.format == "json":
		if err := report.WriteJSON(&b, rep); err != nil {
			return err
		}
	default:
		if err := report.WriteText(&b, rep); err != nil {
			return err
		}
		if several && dst == "" {
			b.WriteString("\n")
		}
	}
	if dst == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}

// progressLine draws a progress bar on stderr while URLs are checked, when
// stderr is a terminal; piped or redirected output gets none.
func progressLine(stderr io.Writer, name string) func(checked, total int) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var last time.Time
	return func(checked, total int) {
		if checked < total && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		const width = 30
		done := width * checked / max(total, 1)
		fmt.Fprintf(f, "\r\033[K%s [%s%s] %d/%d URLs", name, strings.Repeat("#", done), strings.Repeat(".", width-done), checked, total)
		if checked == total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

const checkHelp = `Usage: flatguard check [flags] FILE|DIR...

Checks every image URL in each flat file the way the marketplace's image
fetcher will: one anonymous GET per distinct URL, redirects followed, the
first bytes read to make sure they are an image of a usable size. Temporary
links (pre-signed S3, CloudFront, GCS, Azure SAS) and share pages fail even
when they answer today: the marketplace fetches later. A folder checks every
.txt, .tsv, .csv, .xlsx and .xlsm file in it.

Examples:
  flatguard check feed.txt                       verdict and findings, grouped by code
  flatguard check --offline feeds/               no requests: temporary and malformed links only
  flatguard check --format json feed.xlsm > report.json
  flatguard check --format html --output report.html feed.txt
  flatguard check --deadline 2m --concurrency 32 big-feed.txt
  flatguard check --resolve images.example.com:443:10.1.2.3 --ca-file staging-ca.pem --allow-private feed.txt

Exit status: 0 every file passes, 1 any file fails, 2 a file could not be
checked or the command line is wrong. Secrets in URLs (signatures, tokens,
passwords) are always shown as REDACTED.

Flags:
`
