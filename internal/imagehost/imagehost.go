// Package imagehost is a local image host for tests and the demo: an HTTP
// and an HTTPS server on 127.0.0.1 that answer for any host names given to
// it, with a private certificate authority made in memory. Its Resolver,
// Dial and RootCAs plug into the probe's injection points, so real-looking
// URLs (https://images.example.com/...) reach it without touching the
// network.
package imagehost

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Host serves images over HTTP and HTTPS on loopback.
type Host struct {
	// Mux routes requests; paths not registered get the default image.
	Mux *http.ServeMux

	names    map[string]bool
	plain    *httptest.Server
	secure   *httptest.Server
	roots    *x509.CertPool
	caPEM    []byte
	mu       sync.Mutex
	requests []string
}

// Start serves for the given host names (lower case, no port).
func Start(names ...string) (*Host, error) {
	h := &Host{Mux: http.NewServeMux(), names: map[string]bool{}}
	for _, n := range names {
		h.names[strings.ToLower(n)] = true
	}
	cert, roots, caPEM, err := NewCertificate(names...)
	if err != nil {
		return nil, err
	}
	h.roots, h.caPEM = roots, caPEM
	h.Mux.Handle("/", Image(1200, 1200))
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, r.Method+" "+r.Host+r.RequestURI)
		h.mu.Unlock()
		h.Mux.ServeHTTP(w, r)
	})
	h.plain = newServer(record)
	h.plain.Start()
	h.secure = newServer(record)
	h.secure.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	h.secure.StartTLS()
	return h, nil
}

// newServer makes an unstarted server bound to 127.0.0.1 only.
func newServer(hd http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(hd)
	// Refused handshakes are what some tests are about: keep them quiet.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	return s
}

// Close stops both servers.
func (h *Host) Close() {
	h.plain.Close()
	h.secure.Close()
}

// Requests returns "METHOD host/path?query" of every request served.
func (h *Host) Requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

// RootCAs trusts the host's private CA only.
func (h *Host) RootCAs() *x509.CertPool { return h.roots }

// CAPEM is the private CA certificate in PEM form, for --ca-file.
func (h *Host) CAPEM() []byte { return h.caPEM }

// HTTPAddr and HTTPSAddr are the servers' loopback addresses.
func (h *Host) HTTPAddr() string  { return h.plain.Listener.Addr().String() }
func (h *Host) HTTPSAddr() string { return h.secure.Listener.Addr().String() }

// Resolver answers 127.0.0.1 for the host's names and "no such host" for
// any other, so nothing is ever looked up on the network.
func (h *Host) Resolver() *Resolver { return &Resolver{names: h.names} }

// Resolver is the host's name lookup.
type Resolver struct{ names map[string]bool }

// LookupNetIP implements probe.Resolver.
func (r *Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if r.names[strings.ToLower(strings.TrimSuffix(host, "."))] {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// Dial routes loopback port 443 to the HTTPS server and port 80 to the HTTP
// server. Other ports on loopback are dialled as they are; anything off
// loopback is refused, so a mistake can never leave the machine.
func (h *Host) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("imagehost: refusing to dial %s off loopback", address)
	}
	switch port {
	case "443":
		address = h.HTTPSAddr()
	case "80":
		address = h.HTTPAddr()
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// Image serves a JPEG of the given size, with Range support.
func Image(width, height int) http.Handler {
	body := JPEG(width, height)
	mod := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		http.ServeContent(w, r, "image.jpg", mod, bytes.NewReader(body))
	})
}

// Page serves an HTML page with status 200, as a login wall does.
func Page(title string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg") // lies, as some hosts do
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>%s</title></head><body>Please sign in</body></html>", title)
	})
}

// JPEG encodes a plain JPEG of the given size.
func JPEG(width, height int) []byte {
	img := image.NewGray(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			img.SetGray(x, y, color.Gray{Y: uint8((x + y) / 16)})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 50}); err != nil {
		panic(err) // encoding to memory cannot fail
	}
	return b.Bytes()
}

// NewCertificate makes a private CA and a leaf certificate it signed for
// names and 127.0.0.1, valid for a day. It returns the leaf (with the CA in
// its chain), a pool trusting only the CA, and the CA in PEM form.
func NewCertificate(names ...string) (tls.Certificate, *x509.CertPool, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "flatguard test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "flatguard image host"},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, pool, caPEM, nil
}
