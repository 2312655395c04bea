package probe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flatguard/flatguard/internal/presign"
)

// redact and redactText keep secrets out of everything the checker
// reports.
var (
	redact     = presign.Redact
	redactText = presign.RedactText
)

// Check fetches one URL the way the marketplace will and returns the
// verdict. It never fails: everything it finds is a Problem. When ctx ends
// before the verdict is known, the Result is NotChecked.
func (c *Checker) Check(ctx context.Context, rawURL string) Result {
	u, p := parseTarget(rawURL)
	if p != nil {
		return Result{Problems: []Problem{*p}}
	}
	return c.check(ctx, u)
}

// check tries u until the answer is final or the retries are spent.
func (c *Checker) check(ctx context.Context, u *url.URL) Result {
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return Result{NotChecked: true}
		}
		out := c.attempt(ctx, u)
		if out.notChecked {
			return Result{NotChecked: true}
		}
		if !out.retry || attempt > c.cfg.Retries {
			if attempt > 1 {
				noteAttempts(out.res.Problems, attempt)
			}
			return out.res
		}
		wait := out.wait
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if c.sleep(ctx, min(wait, maxRetryAfter)) != nil {
			return Result{NotChecked: true}
		}
	}
}

// noteAttempts records in http_status and unreachable problems how many
// attempts the verdict took, when there were several.
func noteAttempts(ps []Problem, n int) {
	for i := range ps {
		if p := &ps[i]; p.Code == codeHTTPStatus || p.Code == codeUnreachable {
			p.Detail = withDetail(p.Detail, "attempts", n)
		}
	}
}

func withDetail(d map[string]any, k string, v any) map[string]any {
	if d == nil {
		d = make(map[string]any)
	}
	d[k] = v
	return d
}

// outcome is the end of one attempt.
type outcome struct {
	res Result
	// retry is set for transient failures.
	retry bool
	// wait is what the server asked for in Retry-After; 0 for none.
	wait time.Duration
	// notChecked is set when the caller's context ended the attempt.
	notChecked bool
}

// answer is what the checker keeps of one response.
type answer struct {
	status      int
	location    string
	contentType string
	// contentEncoding is the Content-Encoding header. None is asked for, so
	// an encoded body reaches the sniffer as it came: never decompressed.
	contentEncoding string
	// size is the whole resource's length in bytes, -1 when unknown.
	size int64
	info imageInfo
	// sniffed is what http.DetectContentType makes of the first bytes of a
	// final answer that is no image; "" for an empty body.
	sniffed    string
	retryAfter time.Duration
	// botWall names the bot-protection service whose challenge the answer
	// is ("cloudflare"); "" for none.
	botWall string
}

// attempt follows the redirect chain from start once, within one Timeout,
// with cookies kept for this chain only.
func (c *Checker) attempt(ctx context.Context, start *url.URL) outcome {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	jar, _ := cookiejar.New(nil) // New never fails without options.
	client := &http.Client{
		Transport: c.transport,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	// A chain is a loop when it comes back to a URL with the same cookies:
	// coming back with new ones is how some hosts set a session.
	seen := make(map[string]bool)
	var hops []Hop
	cur := start
	for {
		state := cur.String() + "\n" + cookieState(jar, cur)
		if seen[state] {
			return outcome{res: redirectFailure(reasonLoop, hops, cur, c.cfg.MaxRedirects)}
		}
		seen[state] = true

		ans, err := c.exchange(actx, client, cur)
		if err != nil {
			return c.failed(ctx, actx, err, cur, hops)
		}
		if ans.location == "" {
			return c.verdict(cur, hops, ans)
		}
		hops = append(hops, Hop{URL: redact(cur.String()), Status: ans.status})
		if len(hops) > c.cfg.MaxRedirects {
			return outcome{res: redirectFailure(reasonTooMany, hops, cur, c.cfg.MaxRedirects)}
		}
		next, err := resolveLocation(cur, ans.location)
		if err != nil {
			return outcome{res: badRedirect(hops, cur, ans.location, err)}
		}
		cur = next
	}
}

func cookieState(jar http.CookieJar, u *url.URL) string {
	var b strings.Builder
	for _, ck := range jar.Cookies(u) {
		b.WriteString(ck.String())
		b.WriteByte(';')
	}
	return b.String()
}

// exchange sends one GET for u, holding a global and a per-host slot until
// the answer is read, and keeps what the checker needs of the answer.
func (c *Checker) exchange(ctx context.Context, client *http.Client, u *url.URL) (answer, error) {
	release, err := c.acquire(ctx, u.Hostname())
	if err != nil {
		return answer{}, err
	}
	defer release()

	// A server that cannot serve the range gets one more try without it.
	ranged := true
	for {
		resp, err := client.Do(c.newRequest(ctx, u, ranged))
		if err != nil {
			return answer{}, err
		}
		body := &countingReader{r: resp.Body}
		if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && ranged {
			finish(resp, body)
			ranged = false
			continue
		}
		ans, err := c.read(resp, body)
		finish(resp, body)
		if err == nil && ans.info.deeper && ans.info.format == formatJPEG {
			c.readDeeper(ctx, client, u, &ans)
		}
		return ans, err
	}
}

// readDeeper fetches the start of a JPEG again, further this time, when
// its frame header lies past the first range: the marketplace decodes the
// whole image, so a small image behind large metadata must not pass
// unmeasured. The segments are skipped as they stream by.
func (c *Checker) readDeeper(ctx context.Context, client *http.Client, u *url.URL, ans *answer) {
	req := c.newRequest(ctx, u, false)
	req.Header.Set("Range", "bytes=0-"+strconv.Itoa(jpegDeepBytes-1))
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	body := &countingReader{r: resp.Body}
	defer finish(resp, body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return
	}
	if w, h, ok := jpegSizeStream(body, jpegDeepBytes); ok {
		ans.info.width, ans.info.height = w, h
	}
}

// newRequest builds the GET for u: the URL as written, a stable
// User-Agent, no credentials, and the range the checker reads.
func (c *Checker) newRequest(ctx context.Context, u *url.URL, ranged bool) *http.Request {
	w := wireURL(u)
	req := (&http.Request{
		Method:     http.MethodGet,
		URL:        w,
		Host:       w.Host,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
	}).WithContext(ctx)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "*/*")
	if ranged {
		req.Header.Set("Range", "bytes=0-"+strconv.Itoa(rangeBytes-1))
	}
	return req
}

// read keeps what matters of resp: where a redirect leads, or the status,
// size and what the first bytes of a final answer show.
func (c *Checker) read(resp *http.Response, body io.Reader) (answer, error) {
	ans := answer{
		status:          resp.StatusCode,
		contentType:     resp.Header.Get("Content-Type"),
		contentEncoding: resp.Header.Get("Content-Encoding"),
		size:            -1,
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		ans.location = resp.Header.Get("Location")
		return ans, nil
	case http.StatusOK:
		ans.size = resp.ContentLength
	case http.StatusPartialContent:
		ans.size = rangeTotal(resp.Header.Get("Content-Range"))
	default:
		ans.retryAfter = c.retryAfter(resp.Header.Get("Retry-After"))
		ans.botWall = botWall(resp, body)
		return ans, nil
	}
	bp := headPool.Get().(*[]byte)
	info, head, err := sniff(body, (*bp)[:0])
	ans.info = info
	if info.format == "" && len(head) > 0 {
		ans.sniffed = http.DetectContentType(head)
	}
	if cap(head) <= rangeBytes {
		*bp = head
	}
	headPool.Put(bp)
	return ans, err
}

// headPool recycles the buffers answers are sniffed into: at thousands of
// URLs a second they would be most of the checker's garbage.
var headPool = sync.Pool{New: func() any {
	b := make([]byte, 0, sniffHead)
	return &b
}}

// botWallPeek is how much of an error answer from a Cloudflare server is
// read to tell a challenge page from a plain error page; the challenge
// markers sit in the first kilobytes.
const botWallPeek = 16 << 10

// cloudflareMarkers are strings only Cloudflare's challenge and block pages
// hold.
var cloudflareMarkers = []string{
	"/cdn-cgi/challenge-platform/",
	"cf-chl-",
	"cf_chl_",
	"<title>Just a moment...</title>",
	"Attention Required! | Cloudflare",
}

// botWall tells whether an error answer is a bot wall: Cloudflare marks its
// challenges with the cf-mitigated: challenge header; older challenge and
// block pages only show in the body of an answer from "server: cloudflare".
// It returns the service's name, or "".
func botWall(resp *http.Response, body io.Reader) string {
	if strings.EqualFold(resp.Header.Get("Cf-Mitigated"), "challenge") {
		return "cloudflare"
	}
	if !strings.EqualFold(resp.Header.Get("Server"), "cloudflare") {
		return ""
	}
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable:
	default:
		return ""
	}
	page, _ := io.ReadAll(io.LimitReader(body, botWallPeek))
	for _, m := range cloudflareMarkers {
		if bytes.Contains(page, []byte(m)) {
			return "cloudflare"
		}
	}
	return ""
}

// rangeTotal reads the complete length from "bytes 0-65535/123456".
func rangeTotal(contentRange string) int64 {
	_, total, ok := strings.Cut(contentRange, "/")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// retryAfter reads Retry-After, delay-seconds or HTTP-date.
func (c *Checker) retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.now()), 0)
	}
	return 0
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}

// finish ends a response. Go reuses a connection only when its body was
// read to the end, so a short remainder is drained; a long one is cheaper
// to drop with the connection.
func finish(resp *http.Response, body *countingReader) {
	left := int64(-1)
	if resp.ContentLength >= 0 {
		left = resp.ContentLength - body.n
	}
	if left <= drainBytes {
		_, _ = io.CopyN(io.Discard, body, drainBytes+1)
	}
	resp.Body.Close()
}

// acquire takes a global and a per-host slot.
func (c *Checker) acquire(ctx context.Context, host string) (func(), error) {
	if err := c.global.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	releaseHost, err := c.hosts.acquire(ctx, host)
	if err != nil {
		c.global.Release(1)
		return nil, err
	}
	return func() {
		releaseHost()
		c.global.Release(1)
	}, nil
}

// failed turns a transport error into the attempt's outcome.
func (c *Checker) failed(ctx, actx context.Context, err error, cur *url.URL, hops []Hop) outcome {
	if ctx.Err() != nil {
		return outcome{notChecked: true}
	}
	var be *blockedError
	if errors.As(err, &be) {
		return outcome{res: Result{Redirects: hops, Problems: []Problem{blockedProblem(be, hops)}}}
	}
	f := classify(err)
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		f = failure{reason: reasonTimeout, transient: true}
	}
	p := unreachableProblem(f, cur.Hostname(), c.cfg.Timeout, hops)
	return outcome{res: Result{Redirects: hops, Problems: []Problem{p}}, retry: f.transient}
}

// verdict judges the final answer of a chain.
func (c *Checker) verdict(cur *url.URL, hops []Hop, ans answer) outcome {
	res := Result{Redirects: hops, FinalStatus: ans.status}
	if ans.status != http.StatusOK && ans.status != http.StatusPartialContent {
		res.Problems = []Problem{httpStatusProblem(ans.status, hops, ans.botWall)}
		// A challenge answers the same way however often it is asked.
		transient := ans.botWall == "" && (ans.status == http.StatusTooManyRequests || ans.status >= 500)
		return outcome{res: res, retry: transient, wait: ans.retryAfter}
	}
	res.Format = ans.info.format
	res.Width, res.Height = ans.info.width, ans.info.height
	if res.Format == "" {
		res.Problems = []Problem{notImageProblem(ans, hops)}
		return outcome{res: res}
	}
	if len(hops) > 0 {
		res.Problems = append(res.Problems, redirectedProblem(hops, cur))
	}
	res.Problems = append(res.Problems, imageProblems(ans.info, ans.size)...)
	return outcome{res: res}
}
