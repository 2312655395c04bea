package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// brokenPage throws, logs an error, breaks its own Content-Security-Policy
// and loads an image that is missing: every kind of problem Browser records.
const brokenPage = `<!doctype html>
<html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; img-src http:">
<title>broken</title></head>
<body><p id="p">broken</p>
<img src="/missing.png" alt="">
<script>console.error("deliberate console error"); document.getElementById("p").setAttribute("data-ran", "yes");</script>
<script>eval("1 + 1");</script>
<script>throw new Error("deliberate exception");</script>
</body></html>`

func TestBrowser_Problems(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /broken.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, brokenPage)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b, err := New(context.Background(), Options{UserDataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New() error = %v (`make test` installs chromium)", err)
	}
	defer b.Close()
	if err := b.Navigate(srv.URL + "/broken.html"); err != nil {
		t.Fatal(err)
	}
	// Every problem happened before the load event that Navigate waits for,
	// and Listen sees each event before the reply to a later command.
	ran, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.getElementById("p").dataset.ran`))
	if err != nil || ran != "yes" {
		t.Fatalf("page script ran = %q, %v; want yes", ran, err)
	}
	got := b.TakeProblems()
	for _, want := range []string{"deliberate console error", "deliberate exception", "unsafe-eval", "missing.png"} {
		if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("TakeProblems() = %q; want one that mentions %q", got, want)
		}
	}
	if again := b.TakeProblems(); len(again) != 0 {
		t.Errorf("TakeProblems() again = %q; want none", again)
	}
}

func TestNew_NotInstalled(t *testing.T) {
	_, err := New(context.Background(), Options{ExecPath: filepath.Join(t.TempDir(), "no-chromium"), UserDataDir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) {
		t.Errorf("New() with a missing binary: error = %v; want ErrNotInstalled", err)
	}
	if err != nil && !strings.Contains(err.Error(), "make test") {
		t.Errorf("New() error = %q; want it to say that `make test` installs chromium", err)
	}
}
