package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

// recorder is a handler that serves an image and records each request.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	next http.Handler
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, r.Clone(context.Background()))
	rc.mu.Unlock()
	rc.next.ServeHTTP(w, r)
}

func (rc *recorder) Requests() []*http.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.reqs...)
}

func TestCheck_RequestShape(t *testing.T) {
	rc := &recorder{next: serveBytes("image/jpeg", testImage(t, "jpeg", 1000, 1000))}
	cases := []struct {
		name      string
		userAgent string
		wantUA    string
	}{
		{"DefaultUserAgent", "", "flatguard/dev (+image URL check)"},
		{"CustomUserAgent", "flatguard/1.2.3 (+image URL check)", "flatguard/1.2.3 (+image URL check)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc.reqs = nil
			e := newEnv(t, rc, true, Config{UserAgent: tc.userAgent})
			got := e.checker.Check(t.Context(), "https://seller:hunter2@images.example.com/a.jpg#frag")
			if !got.OK() || got.Format != "jpeg" {
				t.Fatalf("Check = %+v; want an OK jpeg", got)
			}
			reqs := rc.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests; want 1", len(reqs))
			}
			r := reqs[0]
			checks := []struct{ what, got, want string }{
				{"method", r.Method, "GET"},
				{"User-Agent", r.UserAgent(), tc.wantUA},
				{"Range", r.Header.Get("Range"), "bytes=0-65535"},
				{"Accept", r.Header.Get("Accept"), "*/*"},
				{"Authorization", r.Header.Get("Authorization"), ""},
				{"Cookie", r.Header.Get("Cookie"), ""},
				{"Referer", r.Header.Get("Referer"), ""},
				{"Accept-Encoding", r.Header.Get("Accept-Encoding"), ""},
				{"RequestURI", r.RequestURI, "/a.jpg"},
				{"Host", r.Host, "images.example.com"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("request %s = %q; want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

// TestCheck_HeadNotAllowed: a server that refuses HEAD is fine, as HEAD is
// never sent.
func TestCheck_HeadNotAllowed(t *testing.T) {
	img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		img(w, r)
	})
	e := newEnv(t, h, false, Config{})
	got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
	want := Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
}

func TestCheck_Range416(t *testing.T) {
	img := testImage(t, "png", 1000, 1000)
	rc := &recorder{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(img)
	})}
	e := newEnv(t, rc, false, Config{})
	got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
	want := Result{FinalStatus: 200, Format: "png", Width: 1000, Height: 1000}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
	var ranges []string
	for _, r := range rc.Requests() {
		ranges = append(ranges, r.Header.Get("Range"))
	}
	if diff := cmp.Diff([]string{"bytes=0-65535", ""}, ranges); diff != "" {
		t.Errorf("Range headers mismatch (-want +got):\n%s", diff)
	}
}

// TestCheck_URLAsWritten checks that the request line carries the path and
// query exactly as written.
func TestCheck_URLAsWritten(t *testing.T) {
	cases := []struct {
		name, url, wantURI string
	}{
		{"EscapesKept", "http://images.example.com/p/a%2Bb%2Fc%28d%29.jpg", "/p/a%2Bb%2Fc%28d%29.jpg"},
		{"PlusAndParens", "http://images.example.com/p/a+b(c).jpg?v=1+2&w=(x)", "/p/a+b(c).jpg?v=1+2&w=(x)"},
		{"QueryKept", "http://images.example.com/i?X-Id=a%2Bb%3D%3D&size=L", "/i?X-Id=a%2Bb%3D%3D&size=L"},
		{"LowercaseEscapes", "http://images.example.com/a%2fb%3a.jpg", "/a%2fb%3a.jpg"},
		{"EscapedSlashBesidePipe", "http://images.example.com/a%2Fb|c.jpg", "/a%2Fb|c.jpg"},
		{"NonASCIIPath", "http://images.example.com/bilder/grün.jpg", "/bilder/gr%C3%BCn.jpg"},
		{"NonASCIIQuery", "http://images.example.com/i?name=grün", "/i?name=gr%C3%BCn"},
		{"EmptyPath", "http://images.example.com?x=1", "/?x=1"},
		{"DoubleSlash", "http://images.example.com//cdn//a.jpg", "//cdn//a.jpg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := &recorder{next: serveBytes("image/png", testImage(t, "png", 1000, 1000))}
			e := newEnv(t, rc, false, Config{})
			if got := e.checker.Check(t.Context(), tc.url); !got.OK() {
				t.Fatalf("Check(%q) = %+v; want OK", tc.url, got)
			}
			reqs := rc.Requests()
			if len(reqs) != 1 || reqs[0].RequestURI != tc.wantURI {
				var uris []string
				for _, r := range reqs {
					uris = append(uris, r.RequestURI)
				}
				t.Errorf("Check(%q) sent %q; want [%q]", tc.url, uris, tc.wantURI)
			}
		})
	}
}

func TestCheck_IDNHost(t *testing.T) {
	rc := &recorder{next: serveBytes("image/png", testImage(t, "png", 1000, 1000))}
	e := newEnv(t, rc, true, Config{})
	got := e.checker.Check(t.Context(), "https://Bücher.example/a.png")
	if !got.OK() {
		t.Fatalf("Check = %+v; want OK", got)
	}
	if diff := cmp.Diff([]string{"xn--bcher-kva.example"}, e.resolver.Lookups()); diff != "" {
		t.Errorf("lookups mismatch (-want +got):\n%s", diff)
	}
	if reqs := rc.Requests(); len(reqs) != 1 || reqs[0].Host != "xn--bcher-kva.example" {
		t.Errorf("Host header = %q; want %q", reqs[0].Host, "xn--bcher-kva.example")
	}
}

func TestCheck_InvalidURL(t *testing.T) {
	cases := []struct{ name, url, msg string }{
		{"Empty", "", "the URL is empty"},
		{"NoScheme", "images.example.com/a.jpg", "the URL is not absolute: it needs http:// or https://"},
		{"Relative", "/a.jpg", "the URL is not absolute: it needs http:// or https://"},
		{"FTP", "ftp://images.example.com/a.jpg", `the URL scheme "ftp" is not http or https`},
		{"Data", "data:image/png;base64,iVBORw0KGgo=", `the URL scheme "data" is not http or https`},
		{"NoHost", "https:///a.jpg", "the URL has no host"},
		{"Opaque", "https:images.example.com/a.jpg", "the URL has no host"},
		{"SpaceInPath", "https://images.example.com/a b.jpg", "the URL holds whitespace or an invisible character (U+0020) at byte 28"},
		{"Tab", "https://images.example.com/a\tb.jpg", "the URL holds whitespace or an invisible character (U+0009) at byte 28"},
		{"Newline", "https://images.example.com/a.jpg\n", "the URL holds whitespace or an invisible character (U+000A) at byte 32"},
		{"NUL", "https://images.example.com/\x00", "the URL holds whitespace or an invisible character (U+0000) at byte 27"},
		{"NoBreakSpace", "https://images.example.com/a\u00a0.jpg", "the URL holds whitespace or an invisible character (U+00A0) at byte 28"},
		{"ZeroWidthSpace", "https://images.example.com/a\u200b.jpg", "the URL holds whitespace or an invisible character (U+200B) at byte 28"},
		{"BadUTF8", "https://images.example.com/\xff.jpg", "the URL is not valid UTF-8 at byte 27"},
		{"BadEscape", "https://images.example.com/a%zz.jpg", `the URL cannot be parsed: invalid URL escape "%zz"`},
		{"BadPort", "https://images.example.com:99999/a.jpg", `the URL port "99999" is out of range`},
		{"ZeroPort", "https://images.example.com:0/a.jpg", `the URL port "0" is out of range`},
		{"BadHostChar", "https://images!.example.com/a.jpg", `the URL host "images!.example.com" holds the character '!'`},
		{"IPv4OutOfRange", "http://256.1.1.1/a.jpg", `the URL host "256.1.1.1" is not a valid IPv4 address`},
		{"IPv4FiveParts", "http://1.2.3.4.5/a.jpg", `the URL host "1.2.3.4.5" is not a valid IPv4 address`},
		{"EndsInNumber", "http://shop.123/a.jpg", `the URL host "shop.123" is not a valid IPv4 address`},
		{"BadOctal", "http://08.1.1.1/a.jpg", `the URL host "08.1.1.1" is not a valid IPv4 address`},
		{"IPv6Zone", "http://[fe80::1%25eth0]/a.jpg", `the URL host "fe80::1%eth0" is not a valid IPv6 address`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dials atomic.Int32
			r := newResolver()
			c := New(Config{Resolver: r, Dial: forbiddenDial(t, &dials), AllowLoopback: true, AllowPrivate: true})
			defer c.Close()
			got := c.Check(t.Context(), tc.url)
			want := Result{Problems: []Problem{{Code: report.CodeInvalidURL, Message: tc.msg}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tc.url, diff)
			}
			if n := len(r.Lookups()); n != 0 || dials.Load() != 0 {
				t.Errorf("Check(%q) made %d lookups and %d dials; want none", tc.url, n, dials.Load())
			}
		})
	}
}

func TestCheck_InvalidIDN(t *testing.T) {
	c := New(Config{Resolver: newResolver()})
	defer c.Close()
	got := c.Check(t.Context(), "https://ex\u2488ample.com/a.jpg") // U+2488 is disallowed by UTS 46
	want := Result{Problems: []Problem{{
		Code:    report.CodeInvalidURL,
		Message: "the URL host \"ex\u2488ample.com\" is not a valid international domain name",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
}

func TestCheck_HTTPStatus(t *testing.T) {
	cases := []struct {
		name   string
		status int
		msg    string
	}{
		{"NotFound", 404, "the server answered 404 Not Found"},
		{"Forbidden", 403, "the server answered 403 Forbidden"},
		{"Gone", 410, "the server answered 410 Gone"},
		{"NotModifiedWithoutRedirect", 304, "the server answered 304 Not Modified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tc.status)
			})
			e := newEnv(t, h, false, Config{})
			got := e.checker.Check(t.Context(), "http://images.example.com/a.jpg")
			want := Result{FinalStatus: tc.status, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: tc.msg, HTTPStatus: tc.status,
			}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
			if n.Load() != 1 {
				t.Errorf("server saw %d requests; want 1 (no retry)", n.Load())
			}
		})
	}
}

// redirectServer serves an image at /img.png and the redirects in routes.
func redirectServer(t *testing.T, routes map[string]string) http.Handler {
	img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to, ok := routes[r.URL.Path]; ok {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		switch r.URL.Path {
		case "/img.png":
			img(w, r)
		case "/login":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(loginPage))
		default:
			http.NotFound(w, r)
		}
	})
}

func TestCheck_Redirects(t *testing.T) {
	const base = "https://images.example.com"
	hops := func(pairs ...string) []Hop {
		var hs []Hop
		for _, p := range pairs {
			hs = append(hs, Hop{URL: base + p, Status: 302})
		}
		return hs
	}
	cases := []struct {
		name   string
		routes map[string]string
		url    string
		max    int
		want   Result
	}{
		{
			name:   "ToImage",
			routes: map[string]string{"/old.png": "/img.png"},
			url:    base + "/old.png",
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000, Redirects: hops("/old.png"),
				Problems: []Problem{{
					Code:    report.CodeRedirected,
					Message: "the image is reached through 1 redirect; link https://images.example.com/img.png instead",
					Detail:  map[string]any{"redirects": hops("/old.png"), "finalUrl": base + "/img.png"},
				}}},
		},
		{
			name:   "RelativeChain",
			routes: map[string]string{"/a/b/1": "../2", "/a/2": "/img.png"},
			url:    base + "/a/b/1",
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000, Redirects: hops("/a/b/1", "/a/2"),
				Problems: []Problem{{
					Code:    report.CodeRedirected,
					Message: "the image is reached through 2 redirects; link https://images.example.com/img.png instead",
					Detail:  map[string]any{"redirects": hops("/a/b/1", "/a/2"), "finalUrl": base + "/img.png"},
				}}},
		},
		{
			name:   "ToNotFound",
			routes: map[string]string{"/old.png": "/gone.png"},
			url:    base + "/old.png",
			want: Result{FinalStatus: 404, Redirects: hops("/old.png"), Problems: []Problem{{
				Code:       report.CodeHTTPStatus,
				Message:    "the server answered 404 Not Found after 1 redirect",
				HTTPStatus: 404,
				Detail:     map[string]any{"redirects": hops("/old.png")},
			}}},
		},
		{
			name:   "ToLoginPage",
			routes: map[string]string{"/private.png": "/login"},
			url:    base + "/private.png",
			want: Result{FinalStatus: 200, Redirects: hops("/private.png"), Problems: []Problem{{
				Code:    report.CodeNotImage,
				Message: "the answer is a web page, not an image (a login wall or a share page, say)",
				Detail: map[string]any{
					"contentType": "text/html", "sniffed": "text/html; charset=utf-8",
					"redirects": hops("/private.png"),
				},
			}}},
		},
		{
			name:   "Loop",
			routes: map[string]string{"/a": "/b", "/b": "/a"},
			url:    base + "/a",
			want: Result{Redirects: hops("/a", "/b"), Problems: []Problem{{
				Code:    report.CodeUnreachable,
				Message: "the redirects loop back to https://images.example.com/a",
				Detail:  map[string]any{"reason": "redirect loop", "host": "images.example.com", "redirects": hops("/a", "/b")},
			}}},
		},
		{
			name:   "TooMany",
			routes: map[string]string{"/1": "/2", "/2": "/3", "/3": "/4", "/4": "/img.png"},
			url:    base + "/1",
			max:    3,
			want: Result{Redirects: hops("/1", "/2", "/3", "/4"), Problems: []Problem{{
				Code:    report.CodeUnreachable,
				Message: "the URL redirects more than 3 times",
				Detail:  map[string]any{"reason": "too many redirects", "host": "images.example.com", "redirects": hops("/1", "/2", "/3", "/4")},
			}}},
		},
		{
			name:   "NoRedirectsAllowed",
			routes: map[string]string{"/old.png": "/img.png"},
			url:    base + "/old.png",
			max:    -1,
			want: Result{Redirects: hops("/old.png"), Problems: []Problem{{
				Code:    report.CodeUnreachable,
				Message: "the URL redirects more than 0 times",
				Detail:  map[string]any{"reason": "too many redirects", "host": "images.example.com", "redirects": hops("/old.png")},
			}}},
		},
		{
			name:   "ToFTP",
			routes: map[string]string{"/old.png": "ftp://files.example.com/img.png"},
			url:    base + "/old.png",
			want: Result{Redirects: hops("/old.png"), Problems: []Problem{{
				Code:    report.CodeUnreachable,
				Message: `images.example.com redirects to an unusable location: the URL scheme "ftp" is not http or https`,
				Detail: map[string]any{
					"reason": "bad redirect", "host": "images.example.com",
					"location": "ftp://files.example.com/img.png", "redirects": hops("/old.png"),
				},
			}}},
		},
		{
			name:   "SecretsRedacted",
			routes: map[string]string{"/signed.png": "/img.png?token=s3cr3t"},
			url:    base + "/signed.png?X-Amz-Signature=abc123&size=L",
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000,
				Redirects: []Hop{{URL: base + "/signed.png?X-Amz-Signature=REDACTED&size=L", Status: 302}},
				Problems: []Problem{{
					Code:    report.CodeRedirected,
					Message: "the image is reached through 1 redirect; link https://images.example.com/img.png?token=REDACTED instead",
					Detail: map[string]any{
						"redirects": []Hop{{URL: base + "/signed.png?X-Amz-Signature=REDACTED&size=L", Status: 302}},
						"finalUrl":  base + "/img.png?token=REDACTED",
					},
				}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, redirectServer(t, tc.routes), true, Config{MaxRedirects: tc.max})
			got := e.checker.Check(t.Context(), tc.url)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tc.url, diff)
			}
		})
	}
}

// TestCheck_RedirectKeepsEscapes checks that a Location's escaping goes
// out as the server wrote it.
func TestCheck_RedirectKeepsEscapes(t *testing.T) {
	rc := &recorder{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			w.Header().Set("Location", "/p/a%2Bb%2Fc%28d%29.png?x=%2B")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		serveBytes("image/png", testImage(t, "png", 1000, 1000))(w, r)
	})}
	e := newEnv(t, rc, false, Config{})
	got := e.checker.Check(t.Context(), "http://images.example.com/start")
	if got.Format != "png" || len(got.Problems) != 1 || got.Problems[0].Code != report.CodeRedirected {
		t.Fatalf("Check = %+v; want a redirected png", got)
	}
	var uris []string
	for _, r := range rc.Requests() {
		uris = append(uris, r.RequestURI)
	}
	if diff := cmp.Diff([]string{"/start", "/p/a%2Bb%2Fc%28d%29.png?x=%2B"}, uris); diff != "" {
		t.Errorf("request URIs mismatch (-want +got):\n%s", diff)
	}
}

// TestCheck_Cookies: a host that needs its session cookie to stop
// redirecting gets it within the chain, and the next check starts clean.
func TestCheck_Cookies(t *testing.T) {
	img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
	rc := &recorder{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/session":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "42", Path: "/"})
			http.Redirect(w, r, "/img.png", http.StatusFound)
		case "/img.png":
			if _, err := r.Cookie("sid"); err != nil {
				http.Redirect(w, r, "/session", http.StatusFound)
				return
			}
			img(w, r)
		}
	})}
	e := newEnv(t, rc, true, Config{})
	for i := range 2 {
		got := e.checker.Check(t.Context(), "https://images.example.com/img.png")
		wantHops := []Hop{
			{URL: "https://images.example.com/img.png", Status: 302},
			{URL: "https://images.example.com/session", Status: 302},
		}
		if got.Format != "png" || !cmp.Equal(got.Redirects, wantHops) {
			t.Errorf("check %d: Check = %+v; want a png after %v", i, got, wantHops)
		}
	}
	var cookies []string
	for _, r := range rc.Requests() {
		cookies = append(cookies, r.URL.Path+" "+r.Header.Get("Cookie"))
	}
	want := []string{"/img.png ", "/session ", "/img.png sid=42", "/img.png ", "/session ", "/img.png sid=42"}
	if diff := cmp.Diff(want, cookies); diff != "" {
		t.Errorf("cookies sent mismatch (-want +got):\n%s", diff)
	}
}

func TestCheck_Retries(t *testing.T) {
	fixedNow := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		statuses   []int  // answers before the image; the last repeats
		retryAfter string // on every non-200 answer
		retries    int
		wantReqs   int
		wantSleeps []time.Duration
		want       Result
	}{
		{
			name: "ServiceUnavailableThenImage", statuses: []int{503, 503, 200},
			wantReqs: 3, wantSleeps: []time.Duration{1 * time.Millisecond, 2 * time.Millisecond},
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000},
		},
		{
			name: "AlwaysBadGateway", statuses: []int{502},
			wantReqs: 3, wantSleeps: []time.Duration{1 * time.Millisecond, 2 * time.Millisecond},
			want: Result{FinalStatus: 502, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 502 Bad Gateway", HTTPStatus: 502,
				Detail: map[string]any{"attempts": 3},
			}}},
		},
		{
			name: "NoRetries", statuses: []int{503}, retries: -1,
			wantReqs: 1,
			want: Result{FinalStatus: 503, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 503 Service Unavailable", HTTPStatus: 503,
			}}},
		},
		{
			name: "TooManyRequestsSeconds", statuses: []int{429, 200}, retryAfter: "2",
			wantReqs: 2, wantSleeps: []time.Duration{2 * time.Second},
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000},
		},
		{
			name: "TooManyRequestsDate", statuses: []int{429, 200},
			retryAfter: fixedNow.Add(3 * time.Second).Format(http.TimeFormat),
			wantReqs:   2, wantSleeps: []time.Duration{3 * time.Second},
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000},
		},
		{
			name: "RetryAfterCapped", statuses: []int{429, 200}, retryAfter: "3600",
			wantReqs: 2, wantSleeps: []time.Duration{5 * time.Second},
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000},
		},
		{
			name: "NotFoundIsFinal", statuses: []int{404},
			wantReqs: 1,
			want: Result{FinalStatus: 404, Problems: []Problem{{
				Code: report.CodeHTTPStatus, Message: "the server answered 404 Not Found", HTTPStatus: 404,
			}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
			var n atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				status := tc.statuses[min(i, len(tc.statuses)-1)]
				if status == 200 {
					img(w, r)
					return
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(status)
			})
			e := newEnv(t, h, false, Config{Retries: tc.retries})
			e.checker.now = func() time.Time { return fixedNow }
			got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
			if int(n.Load()) != tc.wantReqs {
				t.Errorf("server saw %d requests; want %d", n.Load(), tc.wantReqs)
			}
			if diff := cmp.Diff(tc.wantSleeps, e.Sleeps()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJitteredBackoff(t *testing.T) {
	for retry, full := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 4: 4 * time.Second, 9: 4 * time.Second} {
		for range 50 {
			if d := jitteredBackoff(retry); d < full/2 || d > full {
				t.Fatalf("jitteredBackoff(%d) = %v; want within [%v, %v]", retry, d, full/2, full)
			}
		}
	}
}

func TestCheck_Unreachable(t *testing.T) {
	t.Run("NXDOMAIN", func(t *testing.T) {
		e := newEnv(t, http.NotFoundHandler(), false, Config{})
		got := e.checker.Check(t.Context(), "http://nope.example.com/a.jpg")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "the host nope.example.com cannot be resolved: no such host",
			Detail:  map[string]any{"reason": "dns", "host": "nope.example.com", "error": "no such host"},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"nope.example.com"}, e.resolver.Lookups()); diff != "" {
			t.Errorf("lookups mismatch (NXDOMAIN is final) (-want +got):\n%s", diff)
		}
	})

	t.Run("DNSServerFailure", func(t *testing.T) {
		e := newEnv(t, http.NotFoundHandler(), false, Config{})
		e.resolver.errs["flaky.example.com"] = &net.DNSError{Err: "server misbehaving", Name: "flaky.example.com", IsTemporary: true}
		got := e.checker.Check(t.Context(), "http://flaky.example.com/a.jpg")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "the host flaky.example.com cannot be resolved: server misbehaving",
			Detail:  map[string]any{"reason": "dns", "host": "flaky.example.com", "error": "server misbehaving", "attempts": 3},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
		if n := len(e.resolver.Lookups()); n != 3 {
			t.Errorf("%d lookups; want 3", n)
		}
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		e := newEnv(t, http.NotFoundHandler(), false, Config{})
		e.router.target = closed
		got := e.checker.Check(t.Context(), "http://images.example.com/a.jpg")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "no connection to images.example.com could be opened",
			Detail: map[string]any{
				"reason": "connect", "host": "images.example.com",
				"error": fmt.Sprintf("dial tcp %s: connect: connection refused", closed),
			},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
		if n := len(e.router.Dials()); n != 1 {
			t.Errorf("%d dials; want 1 (refused is final)", n)
		}
	})

	t.Run("UnknownAuthority", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS() // its own certificate, not our CA
		defer srv.Close()
		e := newEnv(t, http.NotFoundHandler(), true, Config{})
		e.router.target = srv.Listener.Addr().String()
		got := e.checker.Check(t.Context(), "https://images.example.com/a.jpg")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "the TLS handshake with images.example.com failed",
			Detail: map[string]any{
				"reason": "tls", "host": "images.example.com",
				"error": "tls: failed to verify certificate: x509: certificate signed by unknown authority",
			},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		var n atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			<-r.Context().Done() // answer only once the client gave up
		})
		e := newEnv(t, h, false, Config{Timeout: 50 * time.Millisecond, Retries: 1})
		got := e.checker.Check(t.Context(), "http://images.example.com/slow.jpg")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "images.example.com gave no complete answer within 50ms",
			Detail:  map[string]any{"reason": "timeout", "host": "images.example.com", "attempts": 2},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
		if n.Load() != 2 {
			t.Errorf("server saw %d requests; want 2", n.Load())
		}
	})

	t.Run("Reset", func(t *testing.T) {
		var n atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		e := newEnv(t, h, false, Config{})
		got := e.checker.Check(t.Context(), "http://images.example.com/a.jpg")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "images.example.com closed the connection without a complete answer",
			Detail:  map[string]any{"reason": "reset", "host": "images.example.com", "error": "EOF", "attempts": 3},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
		if n.Load() != 3 {
			t.Errorf("server saw %d requests; want 3", n.Load())
		}
	})

	t.Run("ResetThenImage", func(t *testing.T) {
		img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
		var n atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				conn, _, _ := http.NewResponseController(w).Hijack()
				conn.Close()
				return
			}
			img(w, r)
		})
		e := newEnv(t, h, false, Config{})
		got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
		want := Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Garbage", func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, buf, _ := http.NewResponseController(w).Hijack()
			_, _ = buf.WriteString("SSH-2.0-OpenSSH_9.6\r\n\r\n")
			_ = buf.Flush()
			conn.Close()
		})
		e := newEnv(t, h, false, Config{})
		got := e.checker.Check(t.Context(), "http://images.example.com/a.png")
		want := Result{Problems: []Problem{{
			Code:    report.CodeUnreachable,
			Message: "images.example.com gave no valid HTTP answer",
			Detail: map[string]any{
				"reason": "protocol", "host": "images.example.com",
				"error": `net/http: HTTP/1.x transport connection broken: malformed HTTP response "SSH-2.0-OpenSSH_9.6"`,
			},
		}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestCheck_ContextEnded: a check the caller's context ends is not
// checked, whether it ends before or during the request.
func TestCheck_ContextEnded(t *testing.T) {
	started := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	})
	e := newEnv(t, h, false, Config{})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := e.checker.Check(ctx, "http://images.example.com/a.png"); !cmp.Equal(got, Result{NotChecked: true}) {
		t.Errorf("Check(cancelled) = %+v; want NotChecked", got)
	}

	ctx, cancel = context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	if got := e.checker.Check(ctx, "http://images.example.com/a.png"); !cmp.Equal(got, Result{NotChecked: true}) {
		t.Errorf("Check(cancelled in flight) = %+v; want NotChecked", got)
	}
	if s := e.Sleeps(); len(s) != 0 {
		t.Errorf("waits = %v; want none", s)
	}
}

// TestCheck_ConnectionReuse: a short remainder is drained and the
// connection reused; a long one is dropped with its connection.
func TestCheck_ConnectionReuse(t *testing.T) {
	cases := []struct {
		name        string
		extra       int  // bytes after the image header
		ignoreRange bool // answer 200 with the whole body
		wantConns   int32
	}{
		{"ShortRemainderDrained", 20 << 10, false, 1},
		{"RangedPartOfBigPhotoDrained", 300 << 10, false, 1},
		{"LongRemainderClosed", 200 << 10, true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := append(append([]byte(nil), testImage(t, "png", 1000, 1000)...), make([]byte, tc.extra)...)
			h := serveBytes("image/png", body)
			if tc.ignoreRange {
				h = func(w http.ResponseWriter, r *http.Request) {
					r.Header.Del("Range")
					serveBytes("image/png", body)(w, r)
				}
			}
			e := newEnv(t, h, false, Config{})
			for range 3 {
				if got := e.checker.Check(t.Context(), "http://images.example.com/a.png"); !got.OK() {
					t.Fatalf("Check = %+v; want OK", got)
				}
			}
			if n := e.conns.Load(); n != tc.wantConns {
				t.Errorf("3 checks opened %d connections; want %d", n, tc.wantConns)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want failure
	}{
		{"Deadline", context.DeadlineExceeded, failure{reason: "timeout", transient: true, cause: "context deadline exceeded"}},
		{"ReadError", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("x")}, failure{reason: "protocol", cause: "read tcp: x"}},
		{"URLErrorHidesURL", fmt.Errorf("wrapped: %w", &net.DNSError{Err: "x"}), failure{reason: "protocol", cause: "wrapped: lookup : x"}},
		{"LookupNotFound", &lookupError{host: "h", err: &net.DNSError{Err: "no such host", IsNotFound: true}}, failure{reason: "dns", cause: "no such host"}},
		{"LookupOther", &lookupError{host: "h", err: errors.New("resolver down")}, failure{reason: "dns", transient: true, cause: "resolver down"}},
	}
	for _, tc := range cases {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: classify(%v) = %+v; want %+v", tc.name, tc.err, got, tc.want)
		}
	}
	ue := &url.Error{Op: "Get", URL: "https://h/a?token=secret", Err: io.EOF}
	if got, want := classify(ue), (failure{reason: "reset", transient: true, cause: "EOF"}); got != want {
		t.Errorf("classify(%v) = %+v; want %+v", ue, got, want)
	}
}
