package probe_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"

	"github.com/flatguard/flatguard/internal/probe"
)

func Example() {
	// A local image host: one product photo, and a missing one.
	var photo bytes.Buffer
	_ = png.Encode(&photo, image.NewGray(image.Rect(0, 0, 1600, 1200)))
	mux := http.NewServeMux()
	mux.HandleFunc("/shoe.png", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(photo.Bytes())
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Loopback is blocked unless allowed: only tests and the demo allow it.
	c := probe.New(probe.Config{AllowLoopback: true})
	defer c.Close()

	urls := []string{srv.URL + "/shoe.png", srv.URL + "/boot.png"}
	c.CheckAll(context.Background(), urls, func(i int, r probe.Result) {
		fmt.Printf("url %d: ok=%v format=%q size=%dx%d\n", i, r.OK(), r.Format, r.Width, r.Height)
		for _, p := range r.Problems {
			fmt.Printf("  %s: %s\n", p.Code, p.Message)
		}
	})
	// Unordered output:
	// url 0: ok=true format="png" size=1600x1200
	// url 1: ok=false format="" size=0x0
	//   http_status: the server answered 404 Not Found
}
