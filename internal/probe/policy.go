package probe

import (
	"fmt"
	"net/netip"
	"strings"
)

// The address ranges the policy names in blocked_address findings
// (Detail["range"]).
const (
	rangeLoopback    = "loopback"
	rangeLinkLocal   = "link-local"
	rangePrivate     = "private"
	rangeUnspecified = "unspecified"
	rangeMulticast   = "multicast"
	rangeReserved    = "reserved"
	rangeRuntimeAPI  = "Lambda runtime API"
)

type namedPrefix struct {
	prefix netip.Prefix
	name   string
}

func prefixes(name string, cidrs ...string) []namedPrefix {
	ps := make([]namedPrefix, len(cidrs))
	for i, s := range cidrs {
		ps[i] = namedPrefix{netip.MustParsePrefix(s), name}
	}
	return ps
}

var (
	loopbackRanges = prefixes(rangeLoopback, "127.0.0.0/8", "::1/128")
	privateRanges  = prefixes(rangePrivate,
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", // RFC 1918
		"100.64.0.0/10", // CGNAT, RFC 6598
		"fc00::/7",      // unique local
		"fec0::/10",     // site local, deprecated
	)
	// alwaysBlocked holds what no switch lets through. net.IP.IsPrivate
	// and friends miss most of it.
	alwaysBlocked = concat(
		prefixes(rangeUnspecified, "0.0.0.0/8", "::/128"),
		prefixes(rangeLinkLocal, "169.254.0.0/16", "fe80::/10"),
		prefixes(rangeMulticast, "224.0.0.0/4", "ff00::/8"),
		prefixes(rangeReserved,
			"192.0.0.0/24",    // IETF protocol assignments
			"192.0.2.0/24",    // documentation
			"198.18.0.0/15",   // benchmarking
			"198.51.100.0/24", // documentation
			"203.0.113.0/24",  // documentation
			"240.0.0.0/4",     // reserved, broadcast included
			"::/96",           // IPv4-compatible, deprecated
			"100::/64",        // discard only
			"2001::/23",       // IETF protocol assignments, Teredo included
			"2001:db8::/32",   // documentation
			"3fff::/20",       // documentation
		),
	)
	// Prefixes whose addresses carry an IPv4 address that a translator or
	// tunnel reaches: the embedded address is checked too.
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local     = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	globalUnicast  = netip.MustParsePrefix("2000::/3")
)

func concat(lists ...[]namedPrefix) []namedPrefix {
	var all []namedPrefix
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// policy decides which addresses may be dialled.
type policy struct {
	allowLoopback bool
	allowPrivate  bool
	// runtimeAPI holds the Lambda runtime API endpoints, blocked always.
	runtimeAPI []netip.AddrPort
}

// blocked reports whether addr:port may not be dialled, and names the range
// that forbids it. IPv4-mapped IPv6 addresses are checked as IPv4.
func (p policy) blocked(addr netip.Addr, port uint16) (string, bool) {
	addr = addr.Unmap().WithZone("")
	for _, ap := range p.runtimeAPI {
		if ap.Addr() == addr && ap.Port() == port {
			return rangeRuntimeAPI, true
		}
	}
	return p.blockedAddr(addr)
}

func (p policy) blockedAddr(addr netip.Addr) (string, bool) {
	if !addr.IsValid() {
		return rangeUnspecified, true
	}
	if name, ok := lookupRange(loopbackRanges, addr); ok {
		return name, !p.allowLoopback
	}
	if name, ok := lookupRange(privateRanges, addr); ok {
		return name, !p.allowPrivate
	}
	if name, ok := lookupRange(alwaysBlocked, addr); ok {
		return name, true
	}
	if addr.Is4() {
		return "", false
	}
	if v4, ok := embeddedIPv4(addr); ok {
		return p.blockedAddr(v4)
	}
	if nat64Local.Contains(addr) {
		return rangePrivate, !p.allowPrivate
	}
	if !globalUnicast.Contains(addr) {
		return rangeReserved, true
	}
	return "", false
}

func lookupRange(ranges []namedPrefix, addr netip.Addr) (string, bool) {
	for _, r := range ranges {
		if r.prefix.Contains(addr) {
			return r.name, true
		}
	}
	return "", false
}

// embeddedIPv4 returns the IPv4 address a NAT64 or 6to4 address leads to.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	b := addr.As16()
	switch {
	case nat64WellKnown.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// runtimeAPIAddrs parses AWS_LAMBDA_RUNTIME_API ("127.0.0.1:9001").
// "localhost" stands for both loopback addresses.
func runtimeAPIAddrs(v string) []netip.AddrPort {
	if v == "" {
		return nil
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}
	}
	host, port, ok := strings.Cut(v, ":")
	if !ok || !strings.EqualFold(host, "localhost") {
		return nil
	}
	var out []netip.AddrPort
	for _, a := range []string{"127.0.0.1", "[::1]"} {
		if ap, err := netip.ParseAddrPort(a + ":" + port); err == nil {
			out = append(out, ap)
		}
	}
	return out
}

// blockedError is a dial refused by the address policy.
type blockedError struct {
	host      string
	addr      netip.Addr
	rangeName string
}

func (e *blockedError) Error() string {
	return fmt.Sprintf("dial %s: address %s is %s", e.host, e.addr, e.rangeName)
}
