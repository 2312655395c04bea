package validate

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
)

// hostileServers starts, on 127.0.0.1, one server for each way a host can
// misbehave, and returns the URL of each.
func hostileServers(t *testing.T) map[string]string {
	t.Helper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	urls := map[string]string{}
	serve := func(name string, h http.HandlerFunc) {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		t.Cleanup(s.CloseClientConnections)
		urls[name] = s.URL + "/" + name + ".jpg"
	}
	serve("drip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.WriteHeader(http.StatusOK)
		for _, b := range []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16} {
			w.Write([]byte{b})
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second):
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
	})
	serve("endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("all work and no play "), 1024)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	var hop atomic.Int64
	serve("loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("/loop.jpg?n=%d", hop.Add(1)), http.StatusFound)
	})
	serve("bigheader", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Padding", strings.Repeat("a", 100<<10))
		w.Write([]byte{0xff, 0xd8})
	})
	// 64 MiB of zeros in 64 KiB of gzip, made once, a MiB at a time.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	serve("gzipbomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb.Bytes())
	})
	// A listener that accepts and never says a word: over TLS the handshake
	// stalls, over HTTP the request is never answered.
	silent := func(name, scheme string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		urls[name] = scheme + "://" + ln.Addr().String() + "/" + name + ".jpg"
	}
	silent("tlsstall", "https")
	silent("silent", "http")
	return urls
}

// A file whose every image sits on a hostile server still ends, within the
// time budget and in bounded memory, with the right finding on every row.
func TestRun_HostileServersInOneFile(t *testing.T) {
	urls := hostileServers(t)
	want := map[string]report.Code{
		"drip": report.CodeUnreachable, "endless": report.CodeNotImage, "loop": report.CodeUnreachable,
		"bigheader": report.CodeUnreachable, "gzipbomb": report.CodeNotImage,
		"tlsstall": report.CodeUnreachable, "silent": report.CodeUnreachable,
	}
	var feed strings.Builder
	feed.WriteString("TemplateType=fptcustom\tVersion=2019.1209\nSKU\tMain Image URL\nitem_sku\tmain_image_url\n")
	names := []string{"drip", "endless", "loop", "bigheader", "gzipbomb", "tlsstall", "silent"}
	for i := range 3 {
		for _, n := range names {
			fmt.Fprintf(&feed, "%s-%d\t%s\n", n, i, urls[n])
		}
	}

	// Sample the heap while the run goes on.
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	p := New(Config{AllowLoopback: true, RequestTimeout: 300 * time.Millisecond},
		WithProbe(func(c *probe.Config) { c.Retries = 1 }))
	defer p.Close()
	rep, err := p.Run(context.Background(), Input{
		Source:        report.Source{Path: "hostile.txt"},
		Name:          "hostile.txt",
		Body:          strings.NewReader(feed.String()),
		CheckDeadline: time.Now().Add(30 * time.Second), // the Lambda budget, with room to spare
	})
	close(done)
	if err != nil {
		t.Fatal(err)
	}

	got := map[string]report.Code{}
	rows := map[string]int{}
	for _, f := range rep.Findings {
		if f.Code == report.CodeInsecureURL {
			continue
		}
		name := f.SKU[:strings.IndexByte(f.SKU, '-')]
		if prev, ok := got[name]; ok && prev != f.Code {
			t.Errorf("%s: findings %s and %s; want one code on every row", name, prev, f.Code)
		}
		got[name] = f.Code
		rows[name]++
	}
	for _, n := range names {
		if got[n] != want[n] || rows[n] != 3 {
			t.Errorf("%s: %d findings of %s; want 3 of %s", n, rows[n], got[n], want[n])
		}
	}
	s := rep.Summary
	if rep.Status != report.StatusFail || s.UniqueURLs != 7 || s.FailedURLs != 7 || s.NotChecked != 0 {
		t.Errorf("status %s, unique %d, failed %d, not checked %d; want fail, 7, 7, 0", rep.Status, s.UniqueURLs, s.FailedURLs, s.NotChecked)
	}
	// The Lambda has 256 MB; the run over these servers needs a few.
	t.Logf("heap in use peaked at %.1f MiB", float64(peak.Load())/(1<<20))
	if p := peak.Load(); p > 64<<20 {
		t.Errorf("heap in use peaked at %d MiB; want under 64 MiB", p>>20)
	}
}
