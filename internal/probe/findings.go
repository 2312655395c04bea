package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/flatguard/flatguard/internal/report"
)

const (
	codeHTTPStatus  = report.CodeHTTPStatus
	codeUnreachable = report.CodeUnreachable
)

// The reasons of unreachable findings (Detail["reason"]).
const (
	reasonDNS         = "dns"
	reasonConnect     = "connect"
	reasonTLS         = "tls"
	reasonTimeout     = "timeout"
	reasonReset       = "reset"
	reasonProtocol    = "protocol"
	reasonLoop        = "redirect loop"
	reasonTooMany     = "too many redirects"
	reasonBadRedirect = "bad redirect"
)

// failure is a classified transport error.
type failure struct {
	reason    string
	transient bool
	// cause is the error's own text, redacted, without the request URL.
	cause string
}

// classify names the cause of a transport error and whether a retry may
// help: timeouts, resets and temporary DNS failures may; NXDOMAIN, refused
// connections and TLS failures will not.
func classify(err error) failure {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text quotes the whole URL
	}
	cause := redactText(err.Error())
	var le *lookupError
	if errors.As(err, &le) {
		return failure{reason: reasonDNS, transient: !le.permanent(), cause: le.cause()}
	}
	if isTLSError(err) {
		return failure{reason: reasonTLS, cause: cause}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return failure{reason: reasonTimeout, transient: true, cause: cause}
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return failure{reason: reasonReset, transient: true, cause: cause}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return failure{reason: reasonConnect, cause: cause}
	}
	return failure{reason: reasonProtocol, cause: cause}
}

func isTLSError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		alert     tls.AlertError
		record    tls.RecordHeaderError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record) ||
		errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// unreachableProblem describes a failure to get any answer from host.
func unreachableProblem(f failure, host string, timeout time.Duration, hops []Hop) Problem {
	var msg string
	switch f.reason {
	case reasonDNS:
		msg = fmt.Sprintf("the host %s cannot be resolved: %s", host, f.cause)
	case reasonConnect:
		msg = fmt.Sprintf("no connection to %s could be opened", host)
	case reasonTLS:
		msg = fmt.Sprintf("the TLS handshake with %s failed", host)
	case reasonTimeout:
		msg = fmt.Sprintf("%s gave no complete answer within %s", host, timeout)
	case reasonReset:
		msg = fmt.Sprintf("%s closed the connection without a complete answer", host)
	default:
		msg = fmt.Sprintf("%s gave no valid HTTP answer", host)
	}
	d := map[string]any{"reason": f.reason, "host": host}
	if f.cause != "" && f.reason != reasonTimeout {
		d["error"] = f.cause
	}
	if len(hops) > 0 {
		d["redirects"] = hops
	}
	return Problem{Code: codeUnreachable, Message: msg, Detail: d}
}

// redirectFailure is the verdict on a chain that loops or never ends. No
// final answer came, so FinalStatus stays 0 and Redirects holds every
// answer.
func redirectFailure(reason string, hops []Hop, cur *url.URL, maxRedirects int) Result {
	msg := fmt.Sprintf("the redirects loop back to %s", redact(cur.String()))
	if reason == reasonTooMany {
		msg = fmt.Sprintf("the URL redirects more than %d times", maxRedirects)
	}
	p := Problem{
		Code:    codeUnreachable,
		Message: msg,
		Detail:  map[string]any{"reason": reason, "host": cur.Hostname(), "redirects": hops},
	}
	return Result{Redirects: hops, Problems: []Problem{p}}
}

// badRedirect is the verdict on a redirect whose Location leads nowhere
// fetchable.
func badRedirect(hops []Hop, cur *url.URL, location string, err error) Result {
	p := Problem{
		Code:    codeUnreachable,
		Message: fmt.Sprintf("%s redirects to an unusable location: %s", cur.Hostname(), redactText(err.Error())),
		Detail: map[string]any{
			"reason":    reasonBadRedirect,
			"host":      cur.Hostname(),
			"location":  redact(location),
			"redirects": hops,
		},
	}
	return Result{Redirects: hops, Problems: []Problem{p}}
}

func blockedProblem(e *blockedError, hops []Hop) Problem {
	msg := fmt.Sprintf("%s resolves to %s, a %s address; internal addresses are not fetched", e.host, e.addr, e.rangeName)
	if e.host == e.addr.String() {
		msg = fmt.Sprintf("%s is a %s address; internal addresses are not fetched", e.host, e.rangeName)
	}
	d := map[string]any{"host": e.host, "address": e.addr.String(), "range": e.rangeName}
	if len(hops) > 0 {
		d["redirects"] = hops
	}
	return Problem{Code: report.CodeBlockedAddress, Message: msg, Detail: d}
}

// httpStatusProblem describes a final answer that is not 200 or 206.
// wall names the bot-protection service whose challenge the answer is, if
// any: the marketplace's fetcher, a robot too, meets the same wall.
func httpStatusProblem(status int, hops []Hop, wall string) Problem {
	msg := fmt.Sprintf("the server answered %d %s", status, http.StatusText(status))
	var d map[string]any
	if len(hops) > 0 {
		msg += fmt.Sprintf(" after %s", plural(len(hops), "redirect"))
		d = map[string]any{"redirects": hops}
	}
	if wall != "" {
		msg += fmt.Sprintf(": a %s bot wall (challenge page) turned the request away, and it will turn the marketplace's image fetcher away too; let robots fetch the images or host them elsewhere", botWallNames[wall])
		d = withDetail(d, "botWall", wall)
	}
	return Problem{Code: codeHTTPStatus, Message: msg, HTTPStatus: status, Detail: d}
}

// botWallNames are the names people know bot-protection services by.
var botWallNames = map[string]string{"cloudflare": "Cloudflare"}

func notImageProblem(ans answer, hops []Hop) Problem {
	sniffed := ans.sniffed
	msg := fmt.Sprintf("the answer is not an image but %s content", sniffed)
	if strings.HasPrefix(sniffed, "text/html") {
		msg = "the answer is a web page, not an image (a login wall or a share page, say)"
	}
	if sniffed == "" {
		sniffed = "empty"
		msg = "the answer is empty, not an image"
	}
	d := map[string]any{"contentType": ans.contentType, "sniffed": sniffed}
	if ans.contentEncoding != "" {
		// A compressed answer nobody asked for: the bytes are judged as
		// they came, never inflated (a gzip bomb stays 64 KiB).
		msg += fmt.Sprintf(" (Content-Encoding: %s, which was not asked for)", ans.contentEncoding)
		d["contentEncoding"] = ans.contentEncoding
	}
	if len(hops) > 0 {
		d["redirects"] = hops
	}
	return Problem{Code: report.CodeNotImage, Message: msg, Detail: d}
}

func redirectedProblem(hops []Hop, final *url.URL) Problem {
	to := redact(final.String())
	return Problem{
		Code:    report.CodeRedirected,
		Message: fmt.Sprintf("the image is reached through %s; link %s instead", plural(len(hops), "redirect"), to),
		Detail:  map[string]any{"redirects": hops, "finalUrl": to},
	}
}

// formatNames are the names people know the formats by.
var formatNames = map[string]string{
	formatJPEG: "JPEG", formatPNG: "PNG", formatGIF: "GIF", formatTIFF: "TIFF",
	formatWebP: "WebP", formatBMP: "BMP", formatAVIF: "AVIF", formatHEIC: "HEIC",
	formatJXL: "JPEG XL", formatSVG: "SVG",
}

// imageProblems checks an image against the marketplace's rules: JPEG,
// PNG, TIFF or still GIF; longest side within the limits; file size.
// Unknown dimensions or size are not held against the image.
func imageProblems(info imageInfo, size int64) []Problem {
	const accepted = "the marketplace takes JPEG, PNG, TIFF and non-animated GIF"
	switch {
	case info.format == formatGIF && info.animated:
		return []Problem{{
			Code:    report.CodeUnsupportedImage,
			Message: "animated GIF images are not accepted; " + accepted,
			Detail:  map[string]any{"format": formatGIF, "animated": true},
		}}
	case info.format != formatJPEG && info.format != formatPNG && info.format != formatTIFF && info.format != formatGIF:
		return []Problem{{
			Code:    report.CodeUnsupportedImage,
			Message: fmt.Sprintf("%s images are not accepted; %s", formatNames[info.format], accepted),
			Detail:  map[string]any{"format": info.format},
		}}
	}

	w, h := info.width, info.height
	longest := max(w, h)
	dims := map[string]any{"width": w, "height": h}
	switch {
	case longest > MaxLongestSide:
		d := dims
		if size > MaxImageBytes {
			d["bytes"] = size
		}
		return []Problem{{
			Code:    report.CodeImageTooLarge,
			Message: fmt.Sprintf("the image is %dx%d px; the longest side may be at most %d px", w, h, MaxLongestSide),
			Detail:  d,
		}}
	case size > MaxImageBytes:
		return []Problem{{
			Code:    report.CodeImageTooLarge,
			Message: fmt.Sprintf("the image file is %d bytes; it may be at most %d bytes (10 MiB)", size, MaxImageBytes),
			Detail:  map[string]any{"bytes": size},
		}}
	case longest == 0:
		return nil
	case longest < MinLongestSide:
		return []Problem{{
			Code:    report.CodeImageTooSmall,
			Message: fmt.Sprintf("the image is %dx%d px; the longest side must be at least %d px", w, h, MinLongestSide),
			Detail:  dims,
		}}
	case longest < ZoomLongestSide:
		return []Problem{{
			Code:    report.CodeNoZoom,
			Message: fmt.Sprintf("the image is %dx%d px; zoom needs a longest side of at least %d px", w, h, ZoomLongestSide),
			Detail:  dims,
		}}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
