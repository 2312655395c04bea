// Package probe checks image URLs over HTTP the way a marketplace's image
// fetcher will: an anonymous GET (never HEAD) for the first 64 KiB, through
// an SSRF-safe dialer, with redirects followed by hand so the chain can be
// reported.
//
// # What a check does
//
// A URL must be an absolute http(s) URL without whitespace, control or
// invisible characters; otherwise it is invalid_url and no request is
// sent. It goes out as written: percent-escapes are never re-encoded
// (%2B, %2F and %28 stay), the query is kept, the fragment and any
// user:password are dropped, and an international host goes out as
// punycode. Numeric IPv4 hosts in the shorthand forms browsers accept
// (127.1, 0x7f.1, 2130706433, 0177.0.0.1) are read as the address they
// denote, so the address policy judges them; a host whose last label is a
// number but that is no valid address (256.1.1.1, 1.2.3.4.5, shop.123) is
// invalid_url.
//
// Each request carries the configured User-Agent, Accept: */* and
// Range: bytes=0-65535. 200 and 206 are fine; a 416 is asked once more
// without Range. Redirects (301, 302, 303, 307, 308 with a Location) are
// followed up to Config.MaxRedirects, relative locations resolved; cookies
// set during a chain are sent back within that chain only. Only as many
// bytes as needed to tell the format and the dimensions are read (4 KiB,
// doubling up to 64 KiB); a remainder of up to 64 KiB is drained so the
// connection can be reused, a longer one is closed.
//
// # Findings
//
//   - http_status: the final answer is not 200 or 206. HTTPStatus is set;
//     Detail["redirects"] holds the chain before it as []Hop. A bot wall
//     (a Cloudflare challenge: the cf-mitigated: challenge header, or a
//     403, 429 or 503 from "server: cloudflare" whose first 16 KiB hold a
//     challenge page) says so in the message, sets Detail["botWall"] to
//     "cloudflare" and is not retried: the marketplace's fetcher is a robot
//     too and meets the same wall.
//   - not_image: the bytes are no image, whatever the Content-Type says.
//     Detail["contentType"] is the header, Detail["sniffed"] the type
//     http.DetectContentType sees, Detail["contentEncoding"] the
//     Content-Encoding of an answer compressed unasked.
//   - redirected (warning): an image reached only through redirects.
//     Detail["redirects"] and Detail["finalUrl"].
//   - unsupported_image: WebP, AVIF, HEIC, JPEG XL, BMP, SVG or an animated
//     GIF (Detail["format"], Detail["animated"]). A GIF is animated when a
//     second frame, or a looping block without the file ending after one
//     frame, shows within the first 64 KiB.
//   - image_too_small (longest side under 500 px), no_zoom (warning, under
//     1000 px), image_too_large (over 10000 px, or over 10 MiB by
//     Content-Length or the Content-Range total). Detail["width"],
//     ["height"], ["bytes"]. A TIFF whose directory lies past the first
//     64 KiB has unknown dimensions and is not size-checked.
//   - unreachable: no usable answer. Detail["reason"] is "dns", "connect",
//     "tls", "timeout", "reset", "protocol" (a malformed answer), "redirect
//     loop" (the chain comes back to a URL with the same cookies), "too
//     many redirects" or "bad redirect" (a Location that is not a usable
//     http(s) URL; Detail["location"]). Detail["host"] names the host that
//     failed and Detail["error"] the cause, when there is one. For the
//     redirect reasons no final answer exists: FinalStatus is 0 and
//     Detail["redirects"] lists every answer.
//   - blocked_address: the host resolves to an address the policy forbids.
//     Detail["host"], ["address"] and ["range"] ("loopback", "private",
//     "link-local", "unspecified", "multicast", "reserved", "Lambda
//     runtime API").
//
// Every URL in a message or a detail is redacted with presign.Redact.
//
// # Hostile servers
//
// Every attempt, redirects included, ends within Config.Timeout, and the
// memory an answer can take is bounded whatever the server sends:
//
//   - at most 64 KiB of a body is kept (rangeBytes), a remainder of up to
//     64 KiB drained, a longer or endless one dropped with the connection;
//   - response headers are capped at 64 KiB (Transport.MaxResponseHeaderBytes,
//     set deliberately: the default is 1 MiB per answer, times Concurrency);
//     a longer header is unreachable with reason "protocol";
//   - no Accept-Encoding is sent and nothing is ever decompressed
//     (Transport.DisableCompression), so a gzip bomb is judged on its
//     compressed first bytes: not_image;
//   - a server that drips its answer, stalls the TLS handshake or accepts
//     and never answers is unreachable with reason "timeout" once the
//     attempts' Timeouts have passed; a read error in the body after the
//     format was told (a timeout, a reset) fails the attempt too, never
//     passing an image whose bytes did not come;
//   - a redirect chain ends at Config.MaxRedirects, even when every
//     Location is new.
//
// # Retries
//
// Timeouts, connection resets, temporary DNS failures, 5xx and 429 answers
// are retried Config.Retries times, each attempt starting the chain again
// with a fresh Timeout. The wait is what Retry-After asks (seconds or an
// HTTP date), else 0.5 s doubling per retry up to 4 s, jittered; never more
// than 5 s. A body that stalls or breaks after the headers came counts as
// a timeout or a reset and is retried alike. NXDOMAIN, refused
// connections, TLS failures, bot walls and other 4xx are final. When a verdict took several attempts, http_status and unreachable
// findings carry Detail["attempts"].
//
// # Address policy (SSRF)
//
// The transport dials only through the checker: it resolves the host
// itself (Config.Resolver, or a Config.Resolve pin), checks every address
// and dials an address, never a name, so each hop of a redirect chain and
// every new lookup (DNS rebinding) is checked on what is really dialled.
// Environment proxies are ignored. If any address of a host is forbidden,
// the host is blocked. Forbidden, after unmapping IPv4-mapped IPv6 and
// looking inside NAT64 and 6to4 addresses: loopback (unless AllowLoopback),
// RFC 1918, CGNAT and unique-local (unless AllowPrivate), and always
// link-local, unspecified, multicast, broadcast, reserved and
// documentation ranges, IPv6 outside 2000::/3, and the Lambda runtime API
// endpoint.
//
// # Concurrency
//
// Requests in flight are bounded globally (Config.Concurrency) and per
// host name (Config.PerHost), for Check and CheckAll alike; the connection
// pool of each host holds at most PerHost connections.
package probe
