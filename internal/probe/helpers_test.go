package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flatguard/flatguard/internal/imagehost"
)

// fakeResolver maps test host names to addresses and counts lookups.
// Unknown names are NXDOMAIN.
type fakeResolver struct {
	mu      sync.Mutex
	addrs   map[string][]netip.Addr
	errs    map[string]error
	lookups []string
}

func newResolver(pairs ...string) *fakeResolver {
	r := &fakeResolver{addrs: make(map[string][]netip.Addr), errs: make(map[string]error)}
	for i := 0; i+1 < len(pairs); i += 2 {
		r.addrs[pairs[i]] = append(r.addrs[pairs[i]], netip.MustParseAddr(pairs[i+1]))
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	if err, ok := r.errs[host]; ok {
		return nil, err
	}
	if a, ok := r.addrs[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) Lookups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// router is a Config.Dial that sends every dial to one loopback server and
// records the addresses it was asked for.
type router struct {
	target string
	mu     sync.Mutex
	dials  []string
}

func (rt *router) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	rt.mu.Lock()
	rt.dials = append(rt.dials, address)
	rt.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, "tcp", rt.target)
}

func (rt *router) Dials() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.dials...)
}

// forbiddenDial fails the test if anything is dialled.
func forbiddenDial(t *testing.T, count *atomic.Int32) func(context.Context, string, string) (net.Conn, error) {
	return func(_ context.Context, _, address string) (net.Conn, error) {
		count.Add(1)
		t.Errorf("dial %s: the policy should have blocked it", address)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: net.ErrClosed}
	}
}

// testEnv is a loopback server and a Checker whose names resolve to it.
type testEnv struct {
	srv      *httptest.Server
	resolver *fakeResolver
	router   *router
	checker  *Checker
	mu       sync.Mutex
	sleeps   []time.Duration
	// conns counts the connections the server accepted.
	conns atomic.Int32
}

const testHost = "images.example.com"

// newEnv starts h on 127.0.0.1 (TLS with a test CA when tlsOn) and returns
// a Checker for it; hosts resolve as in resolver (images.example.com and
// cdn.example.com to 127.0.0.1 when nil). Retry waits are recorded, not
// slept.
func newEnv(t *testing.T, h http.Handler, tlsOn bool, cfg Config) *testEnv {
	t.Helper()
	e := &testEnv{}
	e.srv = httptest.NewUnstartedServer(h)
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	e.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.conns.Add(1)
		}
	}
	if tlsOn {
		leaf, roots, _, err := imagehost.NewCertificate(testHost, "cdn.example.com", "staging.example.com", "xn--bcher-kva.example")
		if err != nil {
			t.Fatal(err)
		}
		e.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
		e.srv.StartTLS()
		cfg.RootCAs = roots
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)
	e.resolver = newResolver(testHost, "127.0.0.1", "cdn.example.com", "127.0.0.1", "xn--bcher-kva.example", "127.0.0.1")
	e.router = &router{target: e.srv.Listener.Addr().String()}
	if cfg.Resolver == nil {
		cfg.Resolver = e.resolver
	}
	if cfg.Dial == nil {
		cfg.Dial = e.router.Dial
	}
	cfg.AllowLoopback = true
	e.checker = New(cfg)
	e.checker.sleep = func(_ context.Context, d time.Duration) error {
		e.mu.Lock()
		e.sleeps = append(e.sleeps, d)
		e.mu.Unlock()
		return nil
	}
	e.checker.backoff = func(retry int) time.Duration { return time.Duration(retry) * time.Millisecond }
	t.Cleanup(e.checker.Close)
	return e
}

func (e *testEnv) Sleeps() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}

var (
	imagesMu sync.Mutex
	images   = make(map[string][]byte)
)

// testImage encodes a w x h image as "png" or "jpeg", cached per size.
func testImage(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	key := fmt.Sprintf("%s/%dx%d", format, w, h)
	imagesMu.Lock()
	defer imagesMu.Unlock()
	if b, ok := images[key]; ok {
		return b
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	m.Set(0, 0, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, m)
	case "jpeg":
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 80})
	default:
		t.Fatalf("testImage: unknown format %q", format)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	images[key] = buf.Bytes()
	return buf.Bytes()
}

// serveBytes answers with b as content type ct, honouring Range.
func serveBytes(ct string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}
}
