// Package browser runs a headless Chromium for the tests of the pages
// flatguard writes (the HTML report). It wraps chromedp: it starts Debian's
// chromium with flags that keep it quiet and on this machine, and it records
// every script exception and console error a page produces.
//
// The browser talks to chromedp over a pipe, opens no debugging port, and
// sends everything but loopback traffic to a dead proxy, so a page under test
// cannot reach the network even if it tried.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// ErrNotInstalled says the browser binary is missing. `make test` installs
// it (apt-get install chromium).
var ErrNotInstalled = errors.New("browser: chromium is not installed; `make test` installs it (apt-get install -y chromium)")

// ActionTimeout bounds Navigate, so that a page that never loads fails a
// test instead of hanging it. Wrap Context the same way for other actions.
const ActionTimeout = 30 * time.Second

// Options configure New.
type Options struct {
	// ExecPath is the browser binary; "" means DefaultPath.
	ExecPath string
	// UserDataDir is a fresh, empty profile directory, such as t.TempDir().
	// It is required, so that no run shares state with another.
	UserDataDir string
	// Width and Height size the window in CSS pixels; 0 means 1280 by 900.
	Width, Height int
}

// Browser is one headless browser with one tab.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	problems []string
}

// New starts the browser and opens its tab. The browser stops when ctx ends
// or Close is called. New returns an error wrapping ErrNotInstalled when the
// binary is missing.
func New(ctx context.Context, o Options) (*Browser, error) {
	path := o.ExecPath
	if path == "" {
		path = DefaultPath
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("start browser %s: %w (%v)", path, ErrNotInstalled, err)
	}
	if o.UserDataDir == "" {
		return nil, errors.New("start browser: no user data dir")
	}
	w, h := o.Width, o.Height
	if w == 0 || h == 0 {
		w, h = 1280, 900
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(o.UserDataDir),
		chromedp.WindowSize(w, h),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Loopback bypasses a proxy by default; everything else goes to a
		// port where nothing listens, and no name resolves.
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	tctx, tcancel := chromedp.NewContext(actx)
	b := &Browser{ctx: tctx, cancel: func() { tcancel(); acancel() }}
	if err := chromedp.Listen(tctx, b.record); err != nil {
		b.cancel()
		return nil, fmt.Errorf("start browser %s: %w", path, err)
	}
	return b, nil
}

// record keeps the events that mean a page is broken: an uncaught
// exception, a console.error or console.assert call, and a browser log entry
// at error level (a failed request, a Content-Security-Policy violation).
func (b *Browser) record(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = "exception: " + d.Text
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		p = "console." + string(ev.Type) + ":"
		for _, a := range ev.Args {
			p += " " + a.Description + string(a.Value)
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		p = fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// Context returns the tab's context, for chromedp actions. Give actions a
// deadline with context.WithTimeout(b.Context(), ActionTimeout); canceling
// that derived context leaves the tab open.
func (b *Browser) Context() context.Context {
	return b.ctx
}

// Navigate opens url in the tab and waits for the page's load event, at
// most ActionTimeout.
func (b *Browser) Navigate(url string) error {
	ctx, cancel := context.WithTimeout(b.ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate %s: %w", url, err)
	}
	return nil
}

// TakeProblems returns the exceptions and errors recorded since the last
// call, in order, and forgets them.
func (b *Browser) TakeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// Close stops the browser and waits for it to exit.
func (b *Browser) Close() {
	b.cancel()
}
