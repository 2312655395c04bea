package probe

import (
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

func TestPolicy_Blocked(t *testing.T) {
	strict := policy{}
	open := policy{allowLoopback: true, allowPrivate: true}
	cases := []struct {
		addr       string
		strictWant string // range blocked by default, "" if allowed
		openWant   string // range blocked with both switches on
	}{
		{"93.184.215.14", "", ""},
		{"2606:4700::6810:84e5", "", ""},
		{"127.0.0.1", "loopback", ""},
		{"127.255.1.2", "loopback", ""},
		{"::1", "loopback", ""},
		{"10.1.2.3", "private", ""},
		{"172.16.0.1", "private", ""},
		{"172.31.255.255", "private", ""},
		{"172.32.0.1", "", ""},
		{"192.168.1.1", "private", ""},
		{"100.64.0.1", "private", ""},
		{"100.127.255.255", "private", ""},
		{"fd00::1", "private", ""},
		{"fec0::1", "private", ""},
		{"169.254.169.254", "link-local", "link-local"},
		{"fe80::1", "link-local", "link-local"},
		{"0.0.0.0", "unspecified", "unspecified"},
		{"0.1.2.3", "unspecified", "unspecified"},
		{"::", "unspecified", "unspecified"},
		{"224.0.0.1", "multicast", "multicast"},
		{"ff02::1", "multicast", "multicast"},
		{"255.255.255.255", "reserved", "reserved"},
		{"240.0.0.1", "reserved", "reserved"},
		{"192.0.0.8", "reserved", "reserved"},
		{"192.0.2.1", "reserved", "reserved"},
		{"198.18.0.1", "reserved", "reserved"},
		{"198.51.100.7", "reserved", "reserved"},
		{"203.0.113.9", "reserved", "reserved"},
		{"2001:db8::1", "reserved", "reserved"},
		{"2001::1", "reserved", "reserved"},
		{"::127.0.0.1", "reserved", "reserved"},
		{"4000::1", "reserved", "reserved"},
		// IPv4-mapped forms are judged as IPv4.
		{"::ffff:127.0.0.1", "loopback", ""},
		{"::ffff:10.0.0.1", "private", ""},
		{"::ffff:169.254.169.254", "link-local", "link-local"},
		{"::ffff:93.184.215.14", "", ""},
		// NAT64 and 6to4 lead to the IPv4 address inside.
		{"64:ff9b::a9fe:a9fe", "link-local", "link-local"},
		{"64:ff9b::7f00:1", "loopback", ""},
		{"64:ff9b::5db8:d70e", "", ""},
		{"64:ff9b:1::1", "private", ""},
		{"2002:a9fe:a9fe::1", "link-local", "link-local"},
		{"2002:0a00:0001::1", "private", ""},
		{"2002:5db8:d70e::1", "", ""},
	}
	for _, tc := range cases {
		a := netip.MustParseAddr(tc.addr)
		for _, pc := range []struct {
			name string
			p    policy
			want string
		}{{"strict", strict, tc.strictWant}, {"open", open, tc.openWant}} {
			name, bad := pc.p.blocked(a, 443)
			if bad != (pc.want != "") || bad && name != pc.want {
				t.Errorf("%s policy: blocked(%s) = %q, %v; want %q, %v", pc.name, tc.addr, name, bad, pc.want, pc.want != "")
			}
		}
	}
}

func TestPolicy_RuntimeAPI(t *testing.T) {
	cases := []struct {
		env  string
		addr string
		port uint16
		want bool
	}{
		{"127.0.0.1:9001", "127.0.0.1", 9001, true},
		{"127.0.0.1:9001", "::ffff:127.0.0.1", 9001, true},
		{"127.0.0.1:9001", "127.0.0.1", 9002, false},
		{"localhost:9001", "::1", 9001, true},
		{"", "127.0.0.1", 9001, false},
	}
	for _, tc := range cases {
		p := policy{allowLoopback: true, runtimeAPI: runtimeAPIAddrs(tc.env)}
		name, bad := p.blocked(netip.MustParseAddr(tc.addr), tc.port)
		if bad != tc.want || bad && name != "Lambda runtime API" {
			t.Errorf("AWS_LAMBDA_RUNTIME_API=%q: blocked(%s:%d) = %q, %v; want %v", tc.env, tc.addr, tc.port, name, bad, tc.want)
		}
	}
}

func TestParseIPv4(t *testing.T) {
	cases := []struct {
		host string
		want string // "" when invalid
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"10.0x10.1", "10.16.0.1"},
		{"169.254.43518", "169.254.169.254"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"1.2.3.4.", "1.2.3.4"},
		{"256.0.0.1", ""},
		{"1.2.3.256", ""},
		{"1.2.65536", ""},
		{"4294967296", ""},
		{"1.2.3.4.5", ""},
		{"09.1.1.1", ""},
		{"1..1", ""},
	}
	for _, tc := range cases {
		a, ok := parseIPv4(tc.host)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("parseIPv4(%q) = %q; want %q", tc.host, got, tc.want)
		}
	}
}

// TestCheck_BlockedAddress resolves test names to internal addresses and
// checks that nothing is dialled.
func TestCheck_BlockedAddress(t *testing.T) {
	cases := []struct {
		name          string
		url           string
		resolvesTo    []string
		allowLoopback bool
		allowPrivate  bool
		wantHost      string
		wantAddr      string
		wantRange     string
	}{
		{"Loopback", "http://images.example.com/a.jpg", []string{"127.0.0.1"}, false, true, "images.example.com", "127.0.0.1", "loopback"},
		{"LoopbackV6", "http://images.example.com/a.jpg", []string{"::1"}, false, true, "images.example.com", "::1", "loopback"},
		{"Private", "http://images.example.com/a.jpg", []string{"10.0.0.1"}, true, false, "images.example.com", "10.0.0.1", "private"},
		{"CGNAT", "http://images.example.com/a.jpg", []string{"100.64.1.1"}, true, false, "images.example.com", "100.64.1.1", "private"},
		{"ULA", "http://images.example.com/a.jpg", []string{"fd00::1"}, true, false, "images.example.com", "fd00::1", "private"},
		{"Metadata", "http://images.example.com/a.jpg", []string{"169.254.169.254"}, true, true, "images.example.com", "169.254.169.254", "link-local"},
		{"MappedMetadata", "http://images.example.com/a.jpg", []string{"::ffff:169.254.169.254"}, true, true, "images.example.com", "169.254.169.254", "link-local"},
		{"LinkLocalV6", "http://images.example.com/a.jpg", []string{"fe80::1"}, true, true, "images.example.com", "fe80::1", "link-local"},
		{"Unspecified", "http://images.example.com/a.jpg", []string{"0.0.0.0"}, true, true, "images.example.com", "0.0.0.0", "unspecified"},
		{"Multicast", "http://images.example.com/a.jpg", []string{"224.0.0.251"}, true, true, "images.example.com", "224.0.0.251", "multicast"},
		{"Broadcast", "http://images.example.com/a.jpg", []string{"255.255.255.255"}, true, true, "images.example.com", "255.255.255.255", "reserved"},
		{"OnePrivateAmongPublic", "http://images.example.com/a.jpg", []string{"93.184.215.14", "10.0.0.1"}, false, false, "images.example.com", "10.0.0.1", "private"},
		{"ShorthandLiteral", "http://127.1/a.jpg", nil, false, false, "127.0.0.1", "127.0.0.1", "loopback"},
		{"HexLiteral", "http://0x7f.1/a.jpg", nil, false, false, "127.0.0.1", "127.0.0.1", "loopback"},
		{"DecimalLiteral", "http://2130706433/a.jpg", nil, false, false, "127.0.0.1", "127.0.0.1", "loopback"},
		{"OctalLiteral", "http://0177.0.0.1/a.jpg", nil, false, false, "127.0.0.1", "127.0.0.1", "loopback"},
		{"MetadataShorthand", "http://169.254.43518/latest/meta-data/", nil, true, true, "169.254.169.254", "169.254.169.254", "link-local"},
		{"MappedLiteral", "http://[::ffff:127.0.0.1]/a.jpg", nil, false, false, "::ffff:127.0.0.1", "127.0.0.1", "loopback"},
		{"V6Literal", "http://[::1]:8080/a.jpg", nil, false, false, "::1", "::1", "loopback"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dials atomic.Int32
			r := newResolver()
			for _, a := range tc.resolvesTo {
				r.addrs["images.example.com"] = append(r.addrs["images.example.com"], netip.MustParseAddr(a))
			}
			c := New(Config{
				Resolver: r, Dial: forbiddenDial(t, &dials),
				AllowLoopback: tc.allowLoopback, AllowPrivate: tc.allowPrivate,
			})
			defer c.Close()
			got := c.Check(t.Context(), tc.url)
			msg := tc.wantHost + " resolves to " + tc.wantAddr + ", a " + tc.wantRange + " address; internal addresses are not fetched"
			if tc.wantHost == tc.wantAddr {
				msg = tc.wantHost + " is a " + tc.wantRange + " address; internal addresses are not fetched"
			}
			want := Result{Problems: []Problem{{
				Code:    report.CodeBlockedAddress,
				Message: msg,
				Detail:  map[string]any{"host": tc.wantHost, "address": tc.wantAddr, "range": tc.wantRange},
			}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tc.url, diff)
			}
			if dials.Load() != 0 {
				t.Errorf("Check(%q) dialled %d times; want 0", tc.url, dials.Load())
			}
			if tc.resolvesTo == nil && len(r.Lookups()) != 0 {
				t.Errorf("Check(%q) looked up %v; want no lookup for an IP host", tc.url, r.Lookups())
			}
		})
	}
}

// TestCheck_BlockedAfterRedirect: the policy applies to every hop, so a
// public image host cannot bounce the checker to the metadata service.
func TestCheck_BlockedAfterRedirect(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://metadata.example.com/latest/meta-data/", http.StatusFound)
	})
	e := newEnv(t, h, true, Config{})
	e.resolver.addrs["metadata.example.com"] = []netip.Addr{netip.MustParseAddr("169.254.169.254")}
	got := e.checker.Check(t.Context(), "https://images.example.com/a.jpg")
	hops := []Hop{{URL: "https://images.example.com/a.jpg", Status: 302}}
	want := Result{Redirects: hops, Problems: []Problem{{
		Code:    report.CodeBlockedAddress,
		Message: "metadata.example.com resolves to 169.254.169.254, a link-local address; internal addresses are not fetched",
		Detail: map[string]any{
			"host": "metadata.example.com", "address": "169.254.169.254", "range": "link-local", "redirects": hops,
		},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"127.0.0.1:443"}, e.router.Dials()); diff != "" {
		t.Errorf("dials mismatch (-want +got):\n%s", diff)
	}
}

// TestCheck_RuntimeAPIBlocked: with loopback allowed, the Lambda runtime
// API stays out of reach.
func TestCheck_RuntimeAPIBlocked(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
	var dials atomic.Int32
	c := New(Config{Resolver: newResolver(), Dial: forbiddenDial(t, &dials), AllowLoopback: true})
	defer c.Close()
	got := c.Check(t.Context(), "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next")
	want := Result{Problems: []Problem{{
		Code:    report.CodeBlockedAddress,
		Message: "127.0.0.1 is a Lambda runtime API address; internal addresses are not fetched",
		Detail:  map[string]any{"host": "127.0.0.1", "address": "127.0.0.1", "range": "Lambda runtime API"},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
	if dials.Load() != 0 {
		t.Errorf("dialled %d times; want 0", dials.Load())
	}
}

// TestCheck_AllowPrivate: with the switch on, a private address is dialled.
func TestCheck_AllowPrivate(t *testing.T) {
	e := newEnv(t, serveBytes("image/png", testImage(t, "png", 1000, 1000)), false, Config{AllowPrivate: true})
	e.resolver.addrs["intranet.example.com"] = []netip.Addr{netip.MustParseAddr("10.0.0.7")}
	got := e.checker.Check(t.Context(), "http://intranet.example.com:8080/a.png")
	if !got.OK() || got.Format != "png" {
		t.Errorf("Check = %+v; want an OK png", got)
	}
	if diff := cmp.Diff([]string{"10.0.0.7:8080"}, e.router.Dials()); diff != "" {
		t.Errorf("dials mismatch (-want +got):\n%s", diff)
	}
}

func TestCheck_ResolvePins(t *testing.T) {
	img := serveBytes("image/png", testImage(t, "png", 1000, 1000))
	cases := []struct {
		name     string
		pins     map[string]string
		url      string
		wantDial string
		want     Result
	}{
		{
			name: "Pinned", pins: map[string]string{"staging.example.com:443": "127.0.0.1"},
			url: "https://staging.example.com/a.png", wantDial: "127.0.0.1:443",
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000},
		},
		{
			name: "PinnedIDN", pins: map[string]string{"bücher.example:443": "127.0.0.1"},
			url: "https://xn--bcher-kva.example/a.png", wantDial: "127.0.0.1:443",
			want: Result{FinalStatus: 206, Format: "png", Width: 1000, Height: 1000},
		},
		{
			name: "PinnedToPrivate", pins: map[string]string{"staging.example.com:443": "10.9.8.7"},
			url: "https://staging.example.com/a.png",
			want: Result{Problems: []Problem{{
				Code:    report.CodeBlockedAddress,
				Message: "staging.example.com resolves to 10.9.8.7, a private address; internal addresses are not fetched",
				Detail:  map[string]any{"host": "staging.example.com", "address": "10.9.8.7", "range": "private"},
			}}},
		},
		{
			name: "BadPin", pins: map[string]string{"staging.example.com:443": "not-an-ip"},
			url: "https://staging.example.com/a.png",
			want: Result{Problems: []Problem{{
				Code:    report.CodeUnreachable,
				Message: `the host staging.example.com cannot be resolved: pinned address "not-an-ip" is not an IP address`,
				Detail: map[string]any{
					"reason": "dns", "host": "staging.example.com",
					"error": `pinned address "not-an-ip" is not an IP address`,
				},
			}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, img, true, Config{Resolve: tc.pins})
			e.resolver.addrs = nil // any lookup is NXDOMAIN
			got := e.checker.Check(t.Context(), tc.url)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
			var wantDials []string
			if tc.wantDial != "" {
				wantDials = []string{tc.wantDial}
			}
			if diff := cmp.Diff(wantDials, e.router.Dials()); diff != "" {
				t.Errorf("dials mismatch (-want +got):\n%s", diff)
			}
			if l := e.resolver.Lookups(); len(l) != 0 {
				t.Errorf("lookups = %v; want none", l)
			}
		})
	}
}
