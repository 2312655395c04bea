// Slowhost is a loopback image host for benchmarks: every GET is answered
// after a fixed delay with one small (4 KB), valid 1200x1200 PNG (Range
// honoured, keep-alive on), like an image CDN at a fixed distance.
//
// It listens on 127.0.0.1 (never on all interfaces), prints its base URL
// ("http://127.0.0.1:PORT") as the first line on stdout, and exits when its
// standard input closes, so that it never outlives the benchmark that
// started it.
//
// Usage:
//
//	slowhost [-delay 20ms] [-addr 127.0.0.1:0]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	delay := flag.Duration("delay", 20*time.Millisecond, "time before each answer")
	addr := flag.String("addr", "127.0.0.1:0", "loopback `address` to listen on")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("slowhost: -addr %q: want a loopback address", *addr)
	}
	img, err := photo()
	if err != nil {
		log.Fatalf("slowhost: %v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("slowhost: %v", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			time.Sleep(*delay)
			serve(w, r, img)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	log.Fatal(srv.Serve(ln))
}

// serve answers with img: 206 and the asked part for a Range of the form
// "bytes=0-N", else 200 and all of it. The headers are set without
// http.ServeContent's validation work, as a CDN edge would answer: the
// benchmark measures the checker, not this host.
func serve(w http.ResponseWriter, r *http.Request, img []byte) {
	h := w.Header()
	h["Content-Type"] = contentType
	body := img
	status := http.StatusOK
	if last, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=0-"); ok {
		if n, err := strconv.Atoi(last); err == nil && n >= 0 {
			body = img[:min(n+1, len(img))]
			status = http.StatusPartialContent
			h["Content-Range"] = []string{fmt.Sprintf("bytes 0-%d/%d", len(body)-1, len(img))}
		}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var contentType = []string{"image/png"}

// photo encodes a 1200x1200 grey gradient PNG of about 4 KB: big enough
// for zoom, small enough that one read takes the whole answer.
func photo() ([]byte, error) {
	m := image.NewGray(image.Rect(0, 0, 1200, 1200))
	for y := range 1200 {
		for x := range 1200 {
			m.SetGray(x, y, color.Gray{Y: uint8(x / 5)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		return nil, fmt.Errorf("encode photo: %v", err)
	}
	return b.Bytes(), nil
}
