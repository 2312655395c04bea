package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// pin is one Config.Resolve entry.
type pin struct {
	addr netip.Addr
	bad  string // the value, when it is not an IP address
}

// parsePins normalizes Config.Resolve keys the way URL hosts are
// normalized, so "Bücher.example:443" matches the punycode host.
func parsePins(m map[string]string) map[string]pin {
	pins := make(map[string]pin, len(m))
	for k, v := range m {
		host, port, err := net.SplitHostPort(k)
		if err != nil {
			continue
		}
		if h, err := normalizeHost(host); err == nil {
			host = h
		}
		p := pin{bad: v}
		if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
			p = pin{addr: a.Unmap()}
		}
		pins[net.JoinHostPort(host, port)] = p
	}
	return pins
}

// lookupError is a failed name lookup.
type lookupError struct {
	host string
	err  error
	// final marks a failure no retry can change besides NXDOMAIN.
	final bool
}

func (e *lookupError) Error() string {
	return fmt.Sprintf("lookup %s: %v", e.host, e.err)
}

func (e *lookupError) Unwrap() error { return e.err }

// permanent reports whether no retry can change the failure: the name does
// not exist (NXDOMAIN) or the pinned address is no address.
func (e *lookupError) permanent() bool {
	var de *net.DNSError
	return e.final || errors.As(e.err, &de) && de.IsNotFound
}

// cause is the short reason, without the host.
func (e *lookupError) cause() string {
	var de *net.DNSError
	if errors.As(e.err, &de) {
		return de.Err
	}
	return e.err.Error()
}

// dialContext is the Transport's only way out. It resolves the host itself,
// checks every address against the policy, and only then dials an address,
// never a name: what is checked is what is dialled, on every hop of a
// redirect chain, whatever DNS answers next time (rebinding).
func (c *Checker) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port", address)
	}
	addrs, err := c.lookup(ctx, host, portText)
	if err != nil {
		return nil, err
	}

	// One internal address blocks the host: a public image host has none,
	// and trying the others would let an attacker's name half-point inside.
	for _, a := range addrs {
		if name, bad := c.policy.blocked(a, uint16(port)); bad {
			return nil, &blockedError{host: host, addr: a, rangeName: name}
		}
	}

	dial := c.cfg.Dial
	if dial == nil {
		d := &net.Dialer{Control: c.control}
		dial = d.DialContext
	}
	var first error
	for _, a := range addrs {
		conn, err := dial(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// lookup returns host's addresses: a pinned one, the literal, or the
// resolver's answer. Addresses are unmapped.
func (c *Checker) lookup(ctx context.Context, host, port string) ([]netip.Addr, error) {
	if p, ok := c.pins[net.JoinHostPort(host, port)]; ok {
		if !p.addr.IsValid() {
			return nil, &lookupError{host: host, err: fmt.Errorf("pinned address %q is not an IP address", p.bad), final: true}
		}
		return []netip.Addr{p.addr}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	addrs, err := c.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, &lookupError{host: host, err: err}
	}
	if len(addrs) == 0 {
		return nil, &lookupError{host: host, err: errors.New("no addresses")}
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = a.Unmap()
	}
	return out, nil
}

// control checks the socket address once more right before connect, when
// the default dialer is used: a second line should dialContext ever change.
func (c *Checker) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: unparsable address", address)
	}
	if name, bad := c.policy.blocked(ap.Addr(), ap.Port()); bad {
		return &blockedError{host: ap.Addr().String(), addr: ap.Addr().Unmap(), rangeName: name}
	}
	return nil
}
