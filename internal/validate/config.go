package validate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flatguard/flatguard/internal/feed"
	"github.com/flatguard/flatguard/internal/probe"
)

// Defaults of the settings in CONTRACT.md. The HTTP ones are the checker's.
const (
	DefaultConcurrency    = probe.DefaultConcurrency
	DefaultPerHost        = probe.DefaultPerHost
	DefaultRequestTimeout = probe.DefaultTimeout
	DefaultMaxFileBytes   = feed.DefaultMaxFileBytes
	DefaultMaxFindings    = 10000
	// DefaultLambdaReserve is what the Lambda keeps back from its invocation
	// deadline to write the report and notify.
	DefaultLambdaReserve = 20 * time.Second
)

// Config holds the settings shared by the Lambda (environment variables) and
// the CLI (flags). The zero value means every default.
type Config struct {
	// Concurrency is the number of requests in flight across all hosts
	// (CONCURRENCY, --concurrency). Zero means DefaultConcurrency.
	Concurrency int
	// PerHost is the number of requests in flight to one host
	// (PER_HOST_CONCURRENCY, --per-host). Zero means DefaultPerHost.
	PerHost int
	// RequestTimeout bounds one URL check, redirects included
	// (REQUEST_TIMEOUT, --timeout). Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Deadline is the time budget of the URL checks (DEADLINE, --deadline).
	// Zero means none in the CLI and the invocation deadline less
	// DefaultLambdaReserve in the Lambda.
	Deadline time.Duration
	// UserAgent is sent on every request (USER_AGENT, --user-agent). Empty
	// means probe.DefaultUserAgent(), "flatguard/<version> (+image URL check)".
	UserAgent string
	// MaxFileBytes caps the size of a checked file (MAX_FILE_BYTES,
	// --max-file-bytes). Zero means DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxFindings caps the findings listed in a report (MAX_FINDINGS,
	// --max-findings); the summary still counts all. Zero means
	// DefaultMaxFindings.
	MaxFindings int
	// Encoding forces a text encoding (ENCODING, --encoding). Empty detects.
	Encoding string
	// AllowPrivate lets RFC 1918, CGNAT and unique-local addresses through
	// (ALLOW_PRIVATE_NETWORKS, --allow-private).
	AllowPrivate bool
	// AllowLoopback lets loopback addresses through, for local tests and the
	// demo only (ALLOW_LOOPBACK, --allow-loopback).
	AllowLoopback bool
	// Offline skips every request: only static findings (--offline).
	Offline bool
}

// withDefaults returns c with the pipeline's zero settings replaced by their
// defaults. Zero HTTP settings (Concurrency, PerHost, RequestTimeout,
// UserAgent) stay zero: the checker applies its own defaults, which these
// are.
func (c Config) withDefaults() Config {
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = DefaultMaxFileBytes
	}
	if c.MaxFindings <= 0 {
		c.MaxFindings = DefaultMaxFindings
	}
	return c
}

// CheckUserAgent refuses a User-Agent that cannot be an HTTP header value:
// a control character (a CR or LF would split the request) or a byte
// outside printable ASCII. Otherwise every request would fail, and the
// hosts would be blamed for it.
func CheckUserAgent(ua string) error {
	for i := 0; i < len(ua); i++ {
		if c := ua[i]; c < ' ' || c > '~' {
			return fmt.Errorf("want printable ASCII only, found byte %#02x", c)
		}
	}
	return nil
}

// ConfigFromEnv reads the settings from environment variables through
// getenv (os.Getenv in the Lambda). An invalid value is an error naming the
// variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var err error
	ints := []struct {
		name string
		dst  *int
	}{
		{"CONCURRENCY", &c.Concurrency},
		{"PER_HOST_CONCURRENCY", &c.PerHost},
		{"MAX_FINDINGS", &c.MaxFindings},
	}
	for _, s := range ints {
		if *s.dst, err = envInt(getenv, s.name); err != nil {
			return Config{}, err
		}
	}
	if c.MaxFileBytes, err = envInt64(getenv, "MAX_FILE_BYTES"); err != nil {
		return Config{}, err
	}
	if c.RequestTimeout, err = envDuration(getenv, "REQUEST_TIMEOUT"); err != nil {
		return Config{}, err
	}
	if c.Deadline, err = envDuration(getenv, "DEADLINE"); err != nil {
		return Config{}, err
	}
	if c.AllowPrivate, err = envBool(getenv, "ALLOW_PRIVATE_NETWORKS"); err != nil {
		return Config{}, err
	}
	if c.AllowLoopback, err = envBool(getenv, "ALLOW_LOOPBACK"); err != nil {
		return Config{}, err
	}
	c.UserAgent = strings.TrimSpace(getenv("USER_AGENT"))
	if err := CheckUserAgent(c.UserAgent); err != nil {
		return Config{}, fmt.Errorf("setting USER_AGENT=%q: %v", c.UserAgent, err)
	}
	c.Encoding = strings.TrimSpace(getenv("ENCODING"))
	if c.Encoding != "" {
		if err := feed.CheckEncoding(c.Encoding); err != nil {
			return Config{}, fmt.Errorf("setting ENCODING=%q: %v", c.Encoding, err)
		}
	}
	return c, nil
}

func envInt(getenv func(string) string, name string) (int, error) {
	v, err := envInt64(getenv, name)
	return int(v), err
}

func envInt64(getenv func(string) string, name string) (int64, error) {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("setting %s=%q: want a non-negative integer", name, s)
	}
	return n, nil
}

func envDuration(getenv func(string) string, name string) (time.Duration, error) {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("setting %s=%q: want a Go duration such as 15s", name, s)
	}
	return d, nil
}

func envBool(getenv func(string) string, name string) (bool, error) {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("setting %s=%q: want true or false", name, s)
	}
	return b, nil
}
