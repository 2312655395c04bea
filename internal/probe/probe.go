package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/flatguard/flatguard/internal/report"
)

// The defaults a zero Config field stands for.
const (
	DefaultConcurrency  = 128
	DefaultPerHost      = 16
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 10
	DefaultRetries      = 2
)

// Version is the product version, set at build time with -ldflags; the
// default User-Agent names it.
var Version = "dev"

// DefaultUserAgent returns the User-Agent sent when none is configured:
// "flatguard/<version> (+image URL check)".
func DefaultUserAgent() string {
	return "flatguard/" + Version + " (+image URL check)"
}

// Limits the marketplace sets on images (Amazon's image requirements).
const (
	// MinLongestSide is the smallest longest side, in pixels, accepted.
	MinLongestSide = 500
	// ZoomLongestSide is the longest side, in pixels, from which zoom works.
	ZoomLongestSide = 1000
	// MaxLongestSide is the largest longest side, in pixels, accepted.
	MaxLongestSide = 10000
	// MaxImageBytes is the largest image file accepted.
	MaxImageBytes = 10 << 20
)

const (
	// rangeBytes is how much of an image a request asks for. It is also the
	// most the checker reads of any answer.
	rangeBytes = 64 << 10
	// drainBytes is the largest unread remainder of a body that is read to
	// its end so that the connection can be reused; a longer one is closed.
	// It equals rangeBytes so that any answer to the ranged request, a
	// 64 KiB part of a big photo included, keeps its connection: reading
	// the rest costs less than a new TCP and TLS handshake.
	drainBytes = rangeBytes
	// backoffBase is the delay before the first retry; it doubles per retry,
	// up to maxBackoff, and is jittered.
	backoffBase = 500 * time.Millisecond
	maxBackoff  = 4 * time.Second
	// maxRetryAfter caps the wait a 429 or 503 answer asks for.
	maxRetryAfter = 5 * time.Second
)

// Resolver looks up a host's addresses. *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Config tunes a Checker. Zero values mean the documented defaults.
type Config struct {
	// Concurrency bounds the requests in flight, all hosts together.
	// Zero or less means DefaultConcurrency.
	Concurrency int
	// PerHost bounds the requests in flight to one host name. It also sizes
	// the connection pool of each host. Zero or less means DefaultPerHost.
	PerHost int
	// Timeout bounds one attempt at one URL, its redirects included; each
	// retry gets a fresh Timeout. Zero or less means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent on every request. Empty means DefaultUserAgent.
	UserAgent string
	// MaxRedirects is how many redirects are followed before the URL is
	// unreachable. Zero means DefaultMaxRedirects; negative means none.
	MaxRedirects int
	// Retries is how many extra attempts a transient failure (timeout,
	// connection reset, temporary DNS failure, 5xx, 429) gets. Zero means
	// DefaultRetries; negative means none.
	Retries int
	// AllowLoopback lets 127.0.0.0/8 and ::1 through, for tests and the
	// demo. Even then the Lambda runtime API address (the host:port in the
	// AWS_LAMBDA_RUNTIME_API environment variable when New runs) and
	// link-local addresses stay blocked.
	AllowLoopback bool
	// AllowPrivate lets RFC 1918, CGNAT 100.64.0.0/10 and unique-local
	// fc00::/7 (and deprecated site-local fec0::/10) addresses through.
	AllowPrivate bool
	// Resolver looks up host names. Nil means net.DefaultResolver.
	Resolver Resolver
	// Dial opens a TCP connection to an "ip:port" address that already
	// passed the address policy. Nil means a net.Dialer, which checks the
	// policy once more on the socket address. Tests inject it to route
	// dials to a local server.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// RootCAs verifies servers' certificates. Nil means the system roots.
	RootCAs *x509.CertPool
	// Resolve pins "host:port" keys to an IP address value, like curl's
	// --resolve HOST:PORT:ADDR. The address policy still applies to the
	// pinned address. A value that is not an IP address makes lookups of
	// its host fail (reason "dns").
	Resolve map[string]string
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PerHost <= 0 {
		cfg.PerHost = DefaultPerHost
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent()
	}
	switch {
	case cfg.MaxRedirects == 0:
		cfg.MaxRedirects = DefaultMaxRedirects
	case cfg.MaxRedirects < 0:
		cfg.MaxRedirects = 0
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	return cfg
}

// Problem is one finding about a URL, without row information.
type Problem struct {
	Code    report.Code
	Message string
	// HTTPStatus is the status of the final answer, for http_status.
	HTTPStatus int
	// Detail holds the finding's machine-readable details: JSON-friendly
	// values, URLs always redacted.
	Detail map[string]any
}

// Hop is one answer in a redirect chain.
type Hop struct {
	// URL is the URL that gave the answer, redacted with presign.Redact.
	URL    string `json:"url"`
	Status int    `json:"status"`
}

// Result is the verdict on one URL.
type Result struct {
	Problems []Problem
	// Redirects lists every redirect answer before the final one, in order.
	Redirects []Hop
	// FinalStatus is the status of the final answer; 0 when none came.
	FinalStatus int
	// Format is sniffed from the bytes: "jpeg", "png", "gif", "tiff",
	// "webp", "bmp", "avif", "heic", "jxl" or "svg"; "" if not an image.
	Format string
	// Width and Height are the image's dimensions; 0 when unknown.
	Width, Height int
	// NotChecked is set when the context ended before this URL was checked.
	NotChecked bool
}

// OK reports whether no problem has error severity. A URL that was not
// checked is not OK.
func (r Result) OK() bool {
	if r.NotChecked {
		return false
	}
	for _, p := range r.Problems {
		if p.Code.Severity() == report.SeverityError {
			return false
		}
	}
	return true
}

// Checker checks image URLs over HTTP. It is safe for concurrent use.
type Checker struct {
	cfg       Config
	policy    policy
	pins      map[string]pin
	transport *http.Transport
	global    *semaphore.Weighted
	hosts     *hostLimiter

	// Hooks that tests replace to avoid real waiting.
	sleep   func(ctx context.Context, d time.Duration) error
	backoff func(retry int) time.Duration
	now     func() time.Time
}

// New returns a Checker for cfg. It reads AWS_LAMBDA_RUNTIME_API to block
// the Lambda runtime API address.
func New(cfg Config) *Checker {
	cfg = cfg.withDefaults()
	c := &Checker{
		cfg: cfg,
		policy: policy{
			allowLoopback: cfg.AllowLoopback,
			allowPrivate:  cfg.AllowPrivate,
			runtimeAPI:    runtimeAPIAddrs(os.Getenv("AWS_LAMBDA_RUNTIME_API")),
		},
		pins:    parsePins(cfg.Resolve),
		global:  semaphore.NewWeighted(int64(cfg.Concurrency)),
		hosts:   newHostLimiter(cfg.PerHost),
		sleep:   sleepContext,
		backoff: jitteredBackoff,
		now:     time.Now,
	}
	c.transport = &http.Transport{
		// Environment proxies are ignored: the fetch must come from here,
		// and a proxy would dial addresses the policy never saw.
		Proxy:       nil,
		DialContext: c.dialContext,
		TLSClientConfig: &tls.Config{
			RootCAs:    cfg.RootCAs,
			MinVersion: tls.VersionTLS12,
		},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           cfg.Concurrency,
		MaxIdleConnsPerHost:    cfg.PerHost,
		MaxConnsPerHost:        cfg.PerHost,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return c
}

// Close releases idle connections. The Checker stays usable.
func (c *Checker) Close() {
	c.transport.CloseIdleConnections()
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitteredBackoff returns the wait before retry number retry (1-based):
// backoffBase doubled per retry, capped at maxBackoff, then a random point in
// its upper half, so that many URLs failing together do not retry together.
func jitteredBackoff(retry int) time.Duration {
	d := backoffBase
	for i := 1; i < retry && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}
