package probe

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

// inflight counts requests in a handler, globally and per Host header, and
// keeps the maxima. Requests wait at a gate until the count named by
// gateHost ("" for all hosts) first reaches gateAt, so the limits are
// really reached; after that the gate stays open.
type inflight struct {
	mu       sync.Mutex
	now      map[string]int
	max      map[string]int
	gateHost string
	gateAt   int
	gate     chan struct{}
	once     sync.Once
	next     http.Handler
}

func newInflight(gateHost string, gateAt int, next http.Handler) *inflight {
	return &inflight{
		now: make(map[string]int), max: make(map[string]int),
		gateHost: gateHost, gateAt: gateAt, gate: make(chan struct{}), next: next,
	}
}

func (f *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	for _, k := range []string{"", r.Host} {
		f.now[k]++
		f.max[k] = max(f.max[k], f.now[k])
	}
	if f.now[f.gateHost] >= f.gateAt {
		f.once.Do(func() { close(f.gate) })
	}
	f.mu.Unlock()

	select {
	case <-f.gate:
	case <-time.After(5 * time.Second): // a safety net; the gate opens first
	}
	f.next.ServeHTTP(w, r)

	f.mu.Lock()
	f.now[""]--
	f.now[r.Host]--
	f.mu.Unlock()
}

func (f *inflight) Max(host string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max[host]
}

// collect runs CheckAll and returns the results by index, failing the test
// if fn runs concurrently or twice for an index.
func collect(t *testing.T, ctx context.Context, c *Checker, urls []string, onResult func(i int)) []Result {
	t.Helper()
	results := make([]Result, len(urls))
	calls := make([]int, len(urls))
	var busy atomic.Int32
	c.CheckAll(ctx, urls, func(i int, r Result) {
		if busy.Add(1) != 1 {
			t.Errorf("fn called concurrently")
		}
		defer busy.Add(-1)
		calls[i]++
		results[i] = r
		if onResult != nil {
			onResult(i)
		}
	})
	for i, n := range calls {
		if n != 1 {
			t.Errorf("fn called %d times for index %d; want 1", n, i)
		}
	}
	return results
}

func TestCheckAll_PerHostLimit(t *testing.T) {
	f := newInflight("images.example.com", 4, serveBytes("image/png", testImage(t, "png", 1000, 1000)))
	e := newEnv(t, f, false, Config{Concurrency: 100, PerHost: 4})
	var urls []string
	for i := range 30 {
		urls = append(urls, fmt.Sprintf("http://images.example.com/%d.png", i))
	}
	results := collect(t, t.Context(), e.checker, urls, nil)
	for i, r := range results {
		if !r.OK() || r.Format != "png" {
			t.Errorf("result %d = %+v; want an OK png", i, r)
		}
	}
	if got := f.Max("images.example.com"); got != 4 {
		t.Errorf("most requests in flight to one host = %d; want 4", got)
	}
}

func TestCheckAll_GlobalLimit(t *testing.T) {
	f := newInflight("", 6, serveBytes("image/png", testImage(t, "png", 1000, 1000)))
	e := newEnv(t, f, false, Config{Concurrency: 6, PerHost: 4})
	hosts := []string{"images.example.com", "cdn.example.com", "static.example.com"}
	e.resolver.addrs["static.example.com"] = e.resolver.addrs["images.example.com"]
	var urls []string
	for i := range 36 {
		urls = append(urls, fmt.Sprintf("http://%s/%d.png", hosts[i%3], i))
	}
	results := collect(t, t.Context(), e.checker, urls, nil)
	for i, r := range results {
		if !r.OK() {
			t.Errorf("result %d = %+v; want OK", i, r)
		}
	}
	if got := f.Max(""); got != 6 {
		t.Errorf("most requests in flight = %d; want 6", got)
	}
	for _, h := range hosts {
		if got := f.Max(h); got > 4 {
			t.Errorf("most requests in flight to %s = %d; want at most 4", h, got)
		}
	}
}

// TestCheckAll_Cancel: once the context ends, the checks in flight and
// those not started are all NotChecked, each reported once.
func TestCheckAll_Cancel(t *testing.T) {
	img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
	var started atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		if r.URL.Path == "/fast.png" {
			img(w, r)
			return
		}
		<-r.Context().Done()
	})
	e := newEnv(t, h, false, Config{Concurrency: 2})
	urls := []string{"http://images.example.com/fast.png"}
	for i := range 6 {
		urls = append(urls, fmt.Sprintf("http://images.example.com/slow%d.png", i))
	}
	urls = append(urls, "not a url")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	results := collect(t, ctx, e.checker, urls, func(i int) {
		if i == 0 {
			cancel()
		}
	})

	want := make([]Result, len(urls))
	want[0] = Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000}
	for i := 1; i < len(urls)-1; i++ {
		want[i] = Result{NotChecked: true}
	}
	want[len(urls)-1] = Result{Problems: []Problem{{
		Code:    report.CodeInvalidURL,
		Message: "the URL holds whitespace or an invisible character (U+0020) at byte 3",
	}}}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("CheckAll results mismatch (-want +got):\n%s", diff)
	}
	if n := started.Load(); n > 3 {
		t.Errorf("server saw %d requests; want at most 3 (the fast one and the two in flight)", n)
	}
}

func TestCheckAll_AlreadyCancelled(t *testing.T) {
	var dials atomic.Int32
	c := New(Config{Resolver: newResolver(), Dial: forbiddenDial(t, &dials)})
	defer c.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	urls := []string{"https://images.example.com/a.jpg", "https://cdn.example.com/b.jpg"}
	results := collect(t, ctx, c, urls, nil)
	if diff := cmp.Diff([]Result{{NotChecked: true}, {NotChecked: true}}, results); diff != "" {
		t.Errorf("CheckAll results mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckAll_Empty(t *testing.T) {
	c := New(Config{})
	defer c.Close()
	c.CheckAll(t.Context(), nil, func(i int, r Result) {
		t.Errorf("fn(%d, %+v) called for no URLs", i, r)
	})
}

func TestHostLimiter_Forgets(t *testing.T) {
	l := newHostLimiter(2)
	r1, err := l.acquire(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := l.acquire(t.Context(), "a")
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	if _, err := l.acquire(ctx, "a"); err == nil {
		t.Errorf("third acquire with limit 2 succeeded; want the context's error")
	}
	r1()
	r2()
	if n := len(l.slots); n != 0 {
		t.Errorf("limiter keeps %d hosts after all releases; want 0", n)
	}
}
