package validate

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
)

// ssrfFeed is an Amazon template with one main image URL per data row;
// data row i (0-based) is spreadsheet row 4+i, its URL in cell B.
func ssrfFeed(urls ...string) string {
	var b strings.Builder
	b.WriteString("TemplateType=fptcustom\tVersion=2019.1209\nSKU\tMain Image URL\nitem_sku\tmain_image_url\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "SKU-%d\t%s\n", i+1, u)
	}
	return b.String()
}

// fakeResolver answers from a fixed table, records every name asked, and
// never looks anything up on the network.
type fakeResolver struct {
	table map[string][]netip.Addr
	mu    sync.Mutex
	asked []string
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.asked = append(r.asked, host)
	r.mu.Unlock()
	if a, ok := r.table[strings.TrimSuffix(host, ".")]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.asked...)
}

// dialCounter is an injected probe.Config.Dial. It dials only the
// addresses in allow (loopback test servers) and counts every call to any
// other address, which must stay at zero: the policy has to refuse before
// a dial is even attempted.
type dialCounter struct {
	allow     map[string]bool
	mu        sync.Mutex
	forbidden []string
}

func (d *dialCounter) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if d.allow[address] {
		var nd net.Dialer
		return nd.DialContext(ctx, network, address)
	}
	d.mu.Lock()
	d.forbidden = append(d.forbidden, address)
	d.mu.Unlock()
	return nil, fmt.Errorf("test dialer: %s is not a test server", address)
}

func (d *dialCounter) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.forbidden...)
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// ssrfResult is what each case pins: the one finding on the row.
type ssrfResult struct {
	Code  report.Code
	Range any
}

// runSSRF checks urls with the given resolver and dialer and returns each
// row's findings by URL index.
func runSSRF(t *testing.T, cfg Config, res probe.Resolver, dial *dialCounter, urls []string) [][]report.Finding {
	t.Helper()
	p := New(cfg, WithProbe(func(c *probe.Config) {
		c.Resolver = res
		c.Dial = dial.dial
		c.Retries = -1
		c.Timeout = 5 * time.Second
	}))
	defer p.Close()
	rep, err := p.Run(context.Background(), Input{Name: "feed.txt", Body: strings.NewReader(ssrfFeed(urls...))})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	rows := make([][]report.Finding, len(urls))
	for _, f := range rep.Findings {
		i := f.Row - 4
		if i < 0 || i >= len(urls) {
			t.Fatalf("finding on row %d outside the data: %+v", f.Row, f)
		}
		rows[i] = append(rows[i], f)
	}
	return rows
}

// TestPipeline_IgnoresEnvironmentProxies runs first in this file on
// purpose: net/http reads the proxy variables once per process, so the
// variables must be set before anything in the process asks for them.
func TestPipeline_IgnoresEnvironmentProxies(t *testing.T) {
	var proxied atomic.Int32
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	go func() {
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			proxied.Add(1)
			c.Close()
		}
	}()
	proxyURL := "http://" + proxy.Addr().String()
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(v, proxyURL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	body := testJPEG(t)
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(body)
	}))
	defer img.Close()
	imgAddr := img.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(imgAddr)

	// A public-looking name, so that an environment proxy would be used
	// (net/http never proxies literal loopback hosts).
	res := &fakeResolver{table: map[string][]netip.Addr{"images.example.com": addrs("127.0.0.1")}}
	dial := &dialCounter{allow: map[string]bool{imgAddr: true, proxy.Addr().String(): true}}
	rows := runSSRF(t, Config{AllowLoopback: true}, res, dial,
		[]string{"http://images.example.com:" + port + "/a.jpg"})
	var codes []report.Code
	for _, f := range rows[0] {
		codes = append(codes, f.Code)
	}
	if len(codes) != 2 || codes[0] != report.CodeImageTooSmall || codes[1] != report.CodeInsecureURL {
		t.Errorf("findings = %v; want [image_too_small insecure_url] (fetched directly)", codes)
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("connections to the environment proxy = %d; want 0", n)
	}
	if got := dial.calls(); len(got) != 0 {
		t.Errorf("dials off the test server = %v; want none", got)
	}
}

// testJPEG encodes a real JPEG of 16x16 pixels: too small for the
// marketplace, which proves it was fetched.
func testJPEG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPipeline_SSRFSpellings(t *testing.T) {
	res := &fakeResolver{table: map[string][]netip.Addr{
		"loopback.example.com": addrs("127.0.0.1"),
		"metadata.example.com": addrs("169.254.169.254"),
		"ula.example.com":      addrs("fd00::1"),
		"mapped.example.com":   addrs("::ffff:10.0.0.1"),
		// One internal address among public ones blocks the host.
		"split.example.com": addrs("93.184.215.14", "192.168.1.1"),
	}}
	cases := []struct {
		name string
		url  string
		want ssrfResult
	}{
		{"ShortLoopback", "https://127.1/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"HexLoopback", "https://0x7f.1/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"DecimalLoopback", "https://2130706433/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"OctalLoopback", "https://0177.0.0.1/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"IPv6Loopback", "https://[::1]/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"MappedLoopback", "https://[::ffff:127.0.0.1]/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"CompatLoopback", "https://[::127.0.0.1]/a.jpg", ssrfResult{"blocked_address", "reserved"}},
		{"SixToFourLoopback", "https://[2002:7f00:1::]/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"Unspecified", "https://0.0.0.0/a.jpg", ssrfResult{"blocked_address", "unspecified"}},
		{"ZeroShort", "https://0/a.jpg", ssrfResult{"blocked_address", "unspecified"}},
		{"IPv6Unspecified", "https://[::]/a.jpg", ssrfResult{"blocked_address", "unspecified"}},
		{"Metadata", "https://169.254.169.254/latest/meta-data/", ssrfResult{"blocked_address", "link-local"}},
		{"MetadataDecimal", "https://2852039166/latest/meta-data/", ssrfResult{"blocked_address", "link-local"}},
		{"MetadataNAT64", "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/", ssrfResult{"blocked_address", "link-local"}},
		{"IPv6LinkLocal", "https://[fe80::1]/a.jpg", ssrfResult{"blocked_address", "link-local"}},
		{"UniqueLocal", "https://[fd00::1]/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"CGNAT", "https://100.64.0.1/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"RFC1918", "https://10.0.0.1/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"RFC1918WithPort", "http://192.168.0.10:8080/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"Multicast", "https://224.0.0.1/a.jpg", ssrfResult{"blocked_address", "multicast"}},
		{"Broadcast", "https://255.255.255.255/a.jpg", ssrfResult{"blocked_address", "reserved"}},
		{"NameToLoopback", "https://loopback.example.com/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"NameToMetadata", "https://metadata.example.com/a.jpg", ssrfResult{"blocked_address", "link-local"}},
		{"NameToUniqueLocal", "https://ula.example.com/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"NameToMappedPrivate", "https://mapped.example.com/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"NameHalfInside", "https://split.example.com/a.jpg", ssrfResult{"blocked_address", "private"}},
		{"TrailingDotName", "https://loopback.example.com./a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"UserinfoTrick", "https://images.example.com@127.1/a.jpg", ssrfResult{"blocked_address", "loopback"}},
		{"IPv4OutOfRange", "https://256.0.0.1/a.jpg", ssrfResult{"invalid_url", nil}},
		{"TooManyParts", "https://1.2.3.4.5/a.jpg", ssrfResult{"invalid_url", nil}},
		{"BadHexPart", "https://0x7g.1/a.jpg", ssrfResult{"invalid_url", nil}},
		{"IPv6Zone", "https://[fe80::1%25eth0]/a.jpg", ssrfResult{"invalid_url", nil}},
		{"BackslashHost", `https://images.example.com\@127.0.0.1/a.jpg`, ssrfResult{"invalid_url", nil}},
	}
	urls := make([]string, len(cases))
	for i, tc := range cases {
		// Plain http adds an insecure_url warning; the cases use https
		// except where the port matters.
		urls[i] = tc.url
	}
	dial := &dialCounter{}
	rows := runSSRF(t, Config{}, res, dial, urls)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []ssrfResult
			for _, f := range rows[i] {
				if f.Code == report.CodeInsecureURL {
					continue
				}
				got = append(got, ssrfResult{f.Code, f.Detail["range"]})
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("findings for %s = %+v; want [%+v]", tc.url, got, tc.want)
			}
		})
	}
	if got := dial.calls(); len(got) != 0 {
		t.Errorf("dial attempts = %v; want none", got)
	}
	for _, name := range res.names() {
		if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil || !strings.HasSuffix(strings.TrimSuffix(name, "."), ".example.com") {
			t.Errorf("resolver asked for %q; numeric hosts must never reach a resolver", name)
		}
	}
}

// With loopback allowed (tests, the demo), a loopback server may still not
// redirect the checker to link-local addresses or the Lambda runtime API.
func TestPipeline_SSRFRedirects(t *testing.T) {
	var runtimeHits atomic.Int32
	runtimeAPI, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer runtimeAPI.Close()
	go func() {
		for {
			c, err := runtimeAPI.Accept()
			if err != nil {
				return
			}
			runtimeHits.Add(1)
			c.Close()
		}
	}()
	// probe.New reads the variable: set it before the pipeline is built.
	t.Setenv("AWS_LAMBDA_RUNTIME_API", runtimeAPI.Addr().String())

	runtimeURL := "http://" + runtimeAPI.Addr().String() + "/2018-06-01/runtime/invocation/next"
	targets := map[string]string{
		"/to-metadata":     "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"/to-metadata-hex": "http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/",
		"/to-runtime":      runtimeURL,
		"/to-name":         "https://metadata.example.com/latest/",
		"/to-private":      "http://10.1.2.3/admin",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to, ok := targets[r.URL.Path]; ok {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	res := &fakeResolver{table: map[string][]netip.Addr{"metadata.example.com": addrs("169.254.169.254")}}
	dial := &dialCounter{allow: map[string]bool{srv.Listener.Addr().String(): true}}
	cases := []struct {
		name string
		path string
		want ssrfResult
	}{
		{"Metadata", "/to-metadata", ssrfResult{"blocked_address", "link-local"}},
		{"MetadataHex", "/to-metadata-hex", ssrfResult{"blocked_address", "link-local"}},
		{"RuntimeAPI", "/to-runtime", ssrfResult{"blocked_address", "Lambda runtime API"}},
		{"NameToMetadata", "/to-name", ssrfResult{"blocked_address", "link-local"}},
		{"Private", "/to-private", ssrfResult{"blocked_address", "private"}},
	}
	urls := make([]string, len(cases))
	for i, tc := range cases {
		urls[i] = srv.URL + tc.path
	}
	rows := runSSRF(t, Config{AllowLoopback: true}, res, dial, urls)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []ssrfResult
			var f report.Finding
			for _, x := range rows[i] {
				if x.Code != report.CodeInsecureURL {
					got = append(got, ssrfResult{x.Code, x.Detail["range"]})
					f = x
				}
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("findings for %s = %+v; want [%+v]", urls[i], got, tc.want)
			}
			hops, _ := f.Detail["redirects"].([]probe.Hop)
			if len(hops) != 1 || hops[0].Status != http.StatusFound || hops[0].URL != urls[i] {
				t.Errorf("redirects = %+v; want one 302 from %s", f.Detail["redirects"], urls[i])
			}
		})
	}
	if got := dial.calls(); len(got) != 0 {
		t.Errorf("dial attempts off the test server = %v; want none", got)
	}
	if n := runtimeHits.Load(); n != 0 {
		t.Errorf("connections to the runtime API = %d; want 0", n)
	}
}
