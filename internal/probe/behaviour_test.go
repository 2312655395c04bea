package probe

import (
	"bytes"
	"context"
	"image/jpeg"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

// TestCheck_UserAgentRequired: a host that turns away requests without its
// idea of a proper User-Agent (none, or Go's default) takes the checker's
// stable one, and a configured one goes out exactly as set.
func TestCheck_UserAgentRequired(t *testing.T) {
	img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua := r.UserAgent()
		if ua == "" || strings.HasPrefix(ua, "Go-http-client") || strings.HasPrefix(ua, "BadBot") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		img(w, r)
	})
	cases := []struct {
		name      string
		userAgent string
		want      Result
	}{
		{"Default", "", Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000}},
		{"Configured", "ShopSync/4.1 (+https://shop.example)", Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000}},
		{"ConfiguredRejected", "BadBot/1.0", Result{FinalStatus: 403, Problems: []Problem{{
			Code: report.CodeHTTPStatus, Message: "the server answered 403 Forbidden", HTTPStatus: 403,
		}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, h, false, Config{UserAgent: tc.userAgent})
			got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// cloudflareChallenge is the start of a Cloudflare managed-challenge page,
// reduced to what identifies it.
const cloudflareChallenge = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">
<noscript>Enable JavaScript and cookies to continue</noscript></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "images.example.com"};
var a = document.createElement('script');a.src = '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=8f00';
document.getElementsByTagName('head')[0].appendChild(a);}());</script></body></html>`

// TestCheck_BotWall: a bot wall fails like any 403, but the message says
// what it is, and a challenge is not retried.
func TestCheck_BotWall(t *testing.T) {
	const wallMsg = ": a Cloudflare bot wall (challenge page) turned the request away, and it will turn the marketplace's image fetcher away too; let robots fetch the images or host them elsewhere"
	cases := []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		want    Result
	}{
		{
			name: "MitigatedHeader", status: 403,
			headers: map[string]string{"Cf-Mitigated": "challenge", "Server": "cloudflare", "Content-Type": "text/html"},
			body:    cloudflareChallenge,
			want: Result{FinalStatus: 403, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 403 Forbidden" + wallMsg, HTTPStatus: 403,
				Detail: map[string]any{"botWall": "cloudflare"},
			}}},
		},
		{
			name: "ChallengePageOnly", status: 403,
			headers: map[string]string{"Server": "cloudflare", "Content-Type": "text/html"},
			body:    cloudflareChallenge,
			want: Result{FinalStatus: 403, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 403 Forbidden" + wallMsg, HTTPStatus: 403,
				Detail: map[string]any{"botWall": "cloudflare"},
			}}},
		},
		{
			name: "UnderAttack503NotRetried", status: 503,
			headers: map[string]string{"Server": "cloudflare", "Content-Type": "text/html"},
			body:    cloudflareChallenge,
			want: Result{FinalStatus: 503, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 503 Service Unavailable" + wallMsg, HTTPStatus: 503,
				Detail: map[string]any{"botWall": "cloudflare"},
			}}},
		},
		{
			name: "PlainForbiddenFromCloudflare", status: 403,
			headers: map[string]string{"Server": "cloudflare", "Content-Type": "text/plain"},
			body:    "Access denied: the owner of this bucket forbids listing",
			want: Result{FinalStatus: 403, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 403 Forbidden", HTTPStatus: 403,
			}}},
		},
		{
			name: "ChallengeWordsFromOtherServer", status: 403,
			headers: map[string]string{"Server": "nginx", "Content-Type": "text/html"},
			body:    cloudflareChallenge,
			want: Result{FinalStatus: 403, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 403 Forbidden", HTTPStatus: 403,
			}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			e := newEnv(t, h, true, Config{})
			got := e.checker.Check(t.Context(), "https://images.example.com/p/shoe.jpg")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
			if n.Load() != 1 {
				t.Errorf("server saw %d requests; want 1", n.Load())
			}
		})
	}
}

// TestCheck_RetryAfter503 honours Retry-After on 503 in both forms, capped.
func TestCheck_RetryAfter503(t *testing.T) {
	fixedNow := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		retryAfter string
		wantSleep  time.Duration
	}{
		{"Seconds", "1", time.Second},
		{"Date", fixedNow.Add(4 * time.Second).Format(http.TimeFormat), 4 * time.Second},
		{"DateCapped", fixedNow.Add(time.Hour).Format(http.TimeFormat), 5 * time.Second},
		{"DatePassed", fixedNow.Add(-time.Hour).Format(http.TimeFormat), time.Millisecond}, // backoff instead
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
			var n atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tc.retryAfter)
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				img(w, r)
			})
			e := newEnv(t, h, false, Config{})
			e.checker.now = func() time.Time { return fixedNow }
			got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
			want := Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]time.Duration{tc.wantSleep}, e.Sleeps()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// countingConn counts the bytes the client reads from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCheck_IgnoresRange: a server that ignores Range and sends a 5 MB
// image whole is read only as far as the dimensions, and its connection is
// dropped rather than drained.
func TestCheck_IgnoresRange(t *testing.T) {
	const total = 5 << 20
	head := testImage(t, "png", 1200, 1200)
	body := append(append([]byte(nil), head...), make([]byte, total-len(head))...)
	var ranges atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranges.Add(1)
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", strconv.Itoa(total))
		_, _ = w.Write(body)
	})
	var read atomic.Int64
	e := newEnv(t, h, false, Config{})
	e.checker.cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := e.router.Dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return countingConn{c, &read}, nil
	}
	for range 2 {
		got := e.checker.Check(t.Context(), "http://images.example.com/big.png")
		want := Result{FinalStatus: 200, Format: "png", Width: 1200, Height: 1200}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
	}
	if ranges.Load() != 2 {
		t.Errorf("%d requests carried Range; want 2", ranges.Load())
	}
	if n := read.Load(); n > 2*rangeBytes {
		t.Errorf("the client read %d bytes of two 5 MiB answers; want at most %d", n, 2*rangeBytes)
	}
	if n := e.conns.Load(); n != 2 {
		t.Errorf("2 checks opened %d connections; want 2 (a long remainder is not drained)", n)
	}
}

// TestJPEGSize reads frame headers the way image/jpeg does, asks for more
// bytes while the header may still come, and gives up on malformed data.
func TestJPEGSize(t *testing.T) {
	base := testImage(t, "jpeg", 1200, 900)
	// An APP1 segment of 40000 bytes before the frame header, as a big EXIF
	// block would be.
	app1 := append([]byte{0xff, 0xd8, 0xff, 0xe1, 40000 >> 8, 40000 & 0xff}, make([]byte, 40000-2)...)
	withEXIF := append(app1, base[2:]...)
	// A progressive frame header (SOF2) after fill bytes.
	progressive := []byte{0xff, 0xd8, 0xff, 0xff, 0xc2, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20, 0x03}
	cases := []struct {
		name       string
		data       []byte
		w, h       int
		wantMore   bool
		matchesStd bool
	}{
		{"Baseline", base, 1200, 900, false, true},
		{"BigEXIF", withEXIF, 1200, 900, false, true},
		{"BigEXIFCut", withEXIF[:20000], 0, 0, true, false},
		{"Progressive", progressive, 800, 600, false, false},
		{"CutInMarker", base[:3], 0, 0, true, false},
		{"CutInLength", base[:5], 0, 0, true, false},
		{"ScanBeforeFrame", []byte{0xff, 0xd8, 0xff, 0xda, 0x00, 0x02}, 0, 0, false, false},
		{"NotAtMarker", []byte{0xff, 0xd8, 0x00, 0x00}, 0, 0, false, false},
		{"ZeroHeight", []byte{0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x00, 0x03, 0x20}, 0, 0, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, h, more := jpegSize(tc.data)
			if w != tc.w || h != tc.h || more != tc.wantMore {
				t.Errorf("jpegSize(%s) = %d, %d, %v; want %d, %d, %v", tc.name, w, h, more, tc.w, tc.h, tc.wantMore)
			}
			if tc.matchesStd {
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(tc.data))
				if err != nil || cfg.Width != w || cfg.Height != h {
					t.Errorf("image/jpeg.DecodeConfig(%s) = %dx%d, %v; jpegSize says %dx%d", tc.name, cfg.Width, cfg.Height, err, w, h)
				}
			}
		})
	}
}

// TestCheck_BodyCutShort: an answer whose connection closes before its
// Content-Length is no verdict on the image: a reset, retried.
func TestCheck_BodyCutShort(t *testing.T) {
	img := testImage(t, "jpeg", 1200, 1200)
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(img[:3])
		_ = http.NewResponseController(w).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	e := newEnv(t, h, false, Config{})
	got := e.checker.Check(t.Context(), "http://images.example.com/cut.jpg")
	want := Result{Problems: []Problem{{
		Code:    report.CodeUnreachable,
		Message: "images.example.com closed the connection without a complete answer",
		Detail:  map[string]any{"reason": "reset", "host": "images.example.com", "error": "unexpected EOF", "attempts": 3},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
	if n.Load() != 3 {
		t.Errorf("server saw %d requests; want 3", n.Load())
	}
}
