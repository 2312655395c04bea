package probe

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

// hostileTimeout is the per-attempt Timeout of the hostile-server tests:
// small, so that the servers that never finish cost little; every verdict
// is asserted, never the time taken.
const hostileTimeout = 300 * time.Millisecond

// hostileChecker returns a Checker for loopback URLs with a short Timeout
// and retry waits skipped.
func hostileChecker(t *testing.T) *Checker {
	t.Helper()
	c := New(Config{AllowLoopback: true, Timeout: hostileTimeout})
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(c.Close)
	return c
}

// startHTTP serves h on 127.0.0.1 and returns the server's base URL.
func startHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// startSilent listens on 127.0.0.1 and accepts connections, reads whatever
// comes (an HTTP request, a TLS ClientHello) and never answers. It returns
// the listener's address.
func startSilent(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dripJPEG sends a JPEG's headers and first three bytes at once, as a real
// image host would, then one byte a second for as long as the client
// listens.
func dripJPEG(t *testing.T) http.HandlerFunc {
	img := testImage(t, "jpeg", 1200, 1200)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		_, _ = w.Write(img[:3])
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 3; i < len(img); i++ {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			if _, err := w.Write(img[i : i+1]); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// endlessBody answers 200 with an image type and a body that never ends.
func endlessBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/jpeg")
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// redirectForever sends /r/N on to /r/N+1, never coming back to a URL
// already seen, so only the redirect limit ends the chain.
func redirectForever(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
	http.Redirect(w, r, "/r/"+strconv.Itoa(n+1), http.StatusFound)
}

// hugeHeader answers with a 100 KB response header.
func hugeHeader(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Padding", strings.Repeat("a", 100<<10))
	w.Header().Set("Content-Type", "image/jpeg")
	w.WriteHeader(http.StatusOK)
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is 64 MiB of zeros gzipped: about 64 KiB on the wire.
func gzipBomb(t *testing.T) []byte {
	bombOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 64 {
			_, _ = zw.Write(zeros)
		}
		_ = zw.Close()
		bomb = b.Bytes()
	})
	if len(bomb) > 256<<10 {
		t.Fatalf("gzip bomb is %d bytes; want a small one", len(bomb))
	}
	return bomb
}

// serveBomb sends the gzip bomb as a JPEG, Content-Encoding gzip, though
// the request asked for no encoding.
func serveBomb(t *testing.T, asked *sync.Map) http.HandlerFunc {
	b := gzipBomb(t)
	return func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.Header.Get("Accept-Encoding"), true)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	}
}

// hostileCase is one hostile server and the verdict on a URL of it.
type hostileCase struct {
	name string
	// start starts the server and returns the URL to check.
	start func(t *testing.T) string
	want  func(url string) Result
}

// timedOut is the verdict on a server that never completes an answer.
func timedOut(string) Result {
	return Result{Problems: []Problem{{
		Code:    report.CodeUnreachable,
		Message: "127.0.0.1 gave no complete answer within 300ms",
		Detail:  map[string]any{"reason": "timeout", "host": "127.0.0.1", "attempts": 3},
	}}}
}

func hostileCases(bombAsked *sync.Map) []hostileCase {
	return []hostileCase{
		{
			name:  "DripsOneByteASecond",
			start: func(t *testing.T) string { return startHTTP(t, dripJPEG(t)) + "/drip.jpg" },
			want:  timedOut,
		},
		{
			name:  "EndlessBody",
			start: func(t *testing.T) string { return startHTTP(t, http.HandlerFunc(endlessBody)) + "/endless.jpg" },
			want: func(string) Result {
				return Result{FinalStatus: 200, Problems: []Problem{{
					Code:    report.CodeNotImage,
					Message: "the answer is not an image but text/plain; charset=utf-8 content",
					Detail:  map[string]any{"contentType": "image/jpeg", "sniffed": "text/plain; charset=utf-8"},
				}}}
			},
		},
		{
			name:  "EndlessRedirects",
			start: func(t *testing.T) string { return startHTTP(t, http.HandlerFunc(redirectForever)) + "/r/0" },
			want: func(u string) Result {
				base, first, _ := strings.Cut(u, "/r/")
				n, _ := strconv.Atoi(first)
				var hops []Hop
				for i := range DefaultMaxRedirects + 1 {
					hops = append(hops, Hop{URL: fmt.Sprintf("%s/r/%d", base, n+i), Status: 302})
				}
				return Result{Redirects: hops, Problems: []Problem{{
					Code:    report.CodeUnreachable,
					Message: "the URL redirects more than 10 times",
					Detail:  map[string]any{"reason": "too many redirects", "host": "127.0.0.1", "redirects": hops},
				}}}
			},
		},
		{
			name:  "HugeHeader",
			start: func(t *testing.T) string { return startHTTP(t, http.HandlerFunc(hugeHeader)) + "/big-header.jpg" },
			want: func(string) Result {
				return Result{Problems: []Problem{{
					Code:    report.CodeUnreachable,
					Message: "127.0.0.1 gave no valid HTTP answer",
					Detail: map[string]any{
						"reason": "protocol", "host": "127.0.0.1",
						"error": "net/http: HTTP/1.x transport connection broken: net/http: server response headers exceeded 65536 bytes; aborted",
					},
				}}}
			},
		},
		{
			name:  "GzipBomb",
			start: func(t *testing.T) string { return startHTTP(t, serveBomb(t, bombAsked)) + "/bomb.jpg" },
			want: func(string) Result {
				return Result{FinalStatus: 200, Problems: []Problem{{
					Code:    report.CodeNotImage,
					Message: "the answer is not an image but application/x-gzip content (Content-Encoding: gzip, which was not asked for)",
					Detail:  map[string]any{"contentType": "image/jpeg", "sniffed": "application/x-gzip", "contentEncoding": "gzip"},
				}}}
			},
		},
		{
			name:  "TLSHandshakeStalls",
			start: func(t *testing.T) string { return "https://" + startSilent(t) + "/a.jpg" },
			want:  timedOut,
		},
		{
			name:  "AcceptsNeverAnswers",
			start: func(t *testing.T) string { return "http://" + startSilent(t) + "/a.jpg" },
			want:  timedOut,
		},
	}
}

// TestCheck_HostileServers: each hostile server ends within the attempts'
// timeouts with its own finding.
func TestCheck_HostileServers(t *testing.T) {
	var asked sync.Map
	for _, tc := range hostileCases(&asked) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.start(t)
			got := hostileChecker(t).Check(t.Context(), u)
			if diff := cmp.Diff(tc.want(u), got); diff != "" {
				t.Errorf("Check(%s) mismatch (-want +got):\n%s", u, diff)
			}
		})
	}
	t.Cleanup(func() {
		asked.Range(func(k, _ any) bool {
			if k != "" {
				t.Errorf("the gzip bomb was asked for with Accept-Encoding %q; want none", k)
			}
			return true
		})
	})
}

// TestCheckAll_HostileServersTogether checks many URLs of every hostile
// server in one CheckAll: each gets its verdict, nothing is left
// unchecked, and the heap stays small however much the servers send.
func TestCheckAll_HostileServersTogether(t *testing.T) {
	const copies = 10
	var asked sync.Map
	cases := hostileCases(&asked)
	var urls []string
	var wants []Result
	for _, tc := range cases {
		u := tc.start(t)
		for i := range copies {
			cu := fmt.Sprintf("%s?copy=%d", u, i)
			if base, _, ok := strings.Cut(u, "/r/"); ok {
				cu = fmt.Sprintf("%s/r/%d", base, 1000*i) // the query would not survive a redirect
			}
			urls = append(urls, cu)
			wants = append(wants, tc.want(cu))
		}
	}
	gzipBomb(t)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	// A safety net only: every server above ends within its Timeouts.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	got := collect(t, ctx, hostileChecker(t), urls, nil)
	close(stop)
	<-sampled

	for i, u := range urls {
		if diff := cmp.Diff(wants[i], got[i]); diff != "" {
			t.Errorf("CheckAll: %s mismatch (-want +got):\n%s", u, diff)
		}
	}
	const heapLimit = 32 << 20
	if peak > base && peak-base > heapLimit {
		t.Errorf("heap grew by %d bytes during the run; want under %d", peak-base, heapLimit)
	}
	t.Logf("peak heap growth %d KiB over %d hostile URLs", (int64(peak)-int64(base))/1024, len(urls))
}
