// Package faultproxy is an HTTP reverse proxy on 127.0.0.1 that stands in
// front of a local S3 or SNS endpoint and makes chosen requests fail the way
// the real services fail: throttling, internal errors, access denied, a
// connection reset before the request arrives, or an answer lost after the
// service acted. Tests point an SDK client at Proxy.URL, so faults meet the
// client at the real protocol boundary, retries and error decoding included.
//
// The proxy forwards the request as it came, Host header included, so
// signatures made for the proxy's address still verify upstream.
package faultproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Op names the API operation a request calls.
type Op string

// The operations the proxy tells apart. S3 operations are read from the
// method, the path-style key and the sub-resource query; SNS operations
// from the Action field of the query-protocol form body.
const (
	// Any matches every request in a Rule.
	Any              Op = ""
	GetObject        Op = "GetObject"
	HeadObject       Op = "HeadObject"
	PutObject        Op = "PutObject"
	CopyObject       Op = "CopyObject"
	GetObjectTagging Op = "GetObjectTagging"
	PutObjectTagging Op = "PutObjectTagging"
	// OtherS3 is any other S3 request (bucket operations, listings ...).
	OtherS3 Op = "OtherS3"
	// Publish is the SNS Publish action. Other SNS actions keep their own
	// names ("CreateTopic", "Subscribe" ...).
	Publish Op = "Publish"
)

// Fault is what the proxy does instead of answering normally.
type Fault int

// The faults. Error answers carry the XML body the service would send, so
// the SDK decodes the same error code it would get from AWS.
const (
	// Throttle answers S3 requests with 503 SlowDown and SNS requests with
	// 400 Throttling ("Rate exceeded"), both throttling errors to the SDK.
	Throttle Fault = iota + 1
	// SNSThrottled answers with SNS's modelled ThrottledException: 429
	// Throttled. (S3 requests get a 503 SlowDown.)
	SNSThrottled
	// InternalError answers 500 InternalError.
	InternalError
	// AccessDenied answers 403 AccessDenied (SNS: AuthorizationError), which
	// no retry changes.
	AccessDenied
	// Reset closes the connection with a TCP reset before the request is
	// forwarded: the service never sees it.
	Reset
	// LoseResponse forwards the request, so the service acts on it, then
	// resets the connection instead of relaying the answer.
	LoseResponse
)

// String names the fault, for test names.
func (f Fault) String() string {
	switch f {
	case Throttle:
		return "Throttle"
	case SNSThrottled:
		return "SNSThrottled"
	case InternalError:
		return "InternalError"
	case AccessDenied:
		return "AccessDenied"
	case Reset:
		return "Reset"
	case LoseResponse:
		return "LoseResponse"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Rule selects requests and the fault they get. All set selectors must
// match.
type Rule struct {
	// Op selects the operation; Any selects every request.
	Op Op
	// KeySuffix, when not empty, selects S3 requests whose object key ends
	// with it (".report.json", say).
	KeySuffix string
	// Header, when not empty, selects requests that carry this header,
	// whatever its value ("X-Amz-Meta-Flatguard-Notified", say).
	Header string
	// Fault is what selected requests get.
	Fault Fault
	// Skip lets the first Skip selected requests through untouched.
	Skip int
	// Times is how many selected requests fail after the skipped ones; zero
	// or less means every one.
	Times int
}

// rule is a Rule with its count of selected requests.
type rule struct {
	Rule
	seen int
}

// Proxy forwards to one upstream endpoint and injects faults by rule. It is
// safe for concurrent use. Close it when done.
type Proxy struct {
	// URL is the proxy's base URL, "http://127.0.0.1:PORT": use it as the
	// SDK client's BaseEndpoint.
	URL string

	upstream *httputil.ReverseProxy
	srv      *http.Server

	mu       sync.Mutex
	rules    []*rule
	seen     map[Op]int
	injected map[Op]int
	log      []Request
}

// Request is one request the proxy saw.
type Request struct {
	Op     Op
	Method string
	// Bucket and Key are the path-style S3 bucket and object key, decoded;
	// empty for SNS requests.
	Bucket, Key string
	// Faulted is true when the request got a fault.
	Faulted bool
}

// New starts a proxy on 127.0.0.1 that forwards to target, a base URL such
// as "http://127.0.0.1:7070".
func New(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad target %q", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %v", err)
	}
	p := &Proxy{
		URL:      "http://" + ln.Addr().String(),
		seen:     make(map[Op]int),
		injected: make(map[Op]int),
	}
	quiet := log.New(io.Discard, "", 0)
	p.upstream = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// The SigV4 signature covers Host: keep the one the client signed.
			pr.Out.Host = pr.In.Host
		},
		// The SDK must see the service's bytes as they are, Content-Length
		// included, so no transparent decompression.
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
		ErrorLog:  quiet,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quiet}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

// Add appends a rule. Rules are tried in the order added; the first that
// decides to fail a request wins, and every rule that selects a request
// counts it.
func (p *Proxy) Add(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{Rule: r})
}

// Clear removes every rule: from now on requests pass untouched.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Seen returns how many requests for op reached the proxy, faulted or not.
// Any counts all requests.
func (p *Proxy) Seen(op Op) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[op]
}

// Injected returns how many requests for op got a fault. Any counts all.
func (p *Proxy) Injected(op Op) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected[op]
}

// Requests returns every request seen so far, in arrival order.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// ServeHTTP classifies the request, applies the first rule that fails it,
// and forwards it otherwise.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, bucket, key, err := classify(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	fault, ok := p.decide(r, Request{Op: op, Method: r.Method, Bucket: bucket, Key: key})
	if !ok {
		p.upstream.ServeHTTP(w, r)
		return
	}
	switch fault {
	case Reset:
		_, _ = io.Copy(io.Discard, r.Body)
		reset(w)
	case LoseResponse:
		p.upstream.ServeHTTP(httptest.NewRecorder(), r)
		reset(w)
	default:
		writeError(w, r, op, fault)
	}
}

// decide counts the request and returns the fault it gets, if any.
func (p *Proxy) decide(r *http.Request, req Request) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	op, key := req.Op, req.Key
	p.seen[op]++
	p.seen[Any]++
	var fault Fault
	hit := false
	for _, ru := range p.rules {
		if !ru.selects(r, op, key) {
			continue
		}
		ru.seen++
		n := ru.seen - ru.Skip
		if !hit && n > 0 && (ru.Times <= 0 || n <= ru.Times) {
			fault, hit = ru.Fault, true
		}
	}
	if hit {
		p.injected[op]++
		p.injected[Any]++
	}
	req.Faulted = hit
	p.log = append(p.log, req)
	return fault, hit
}

func (ru *rule) selects(r *http.Request, op Op, key string) bool {
	if ru.Op != Any && ru.Op != op {
		return false
	}
	if ru.KeySuffix != "" && !strings.HasSuffix(key, ru.KeySuffix) {
		return false
	}
	return ru.Header == "" || len(r.Header.Values(ru.Header)) > 0
}

// s3SubResources are query parameters that make a GET, HEAD or PUT on a key
// some operation other than the object itself.
var s3SubResources = []string{"acl", "attributes", "legal-hold", "retention", "torrent", "uploads", "uploadId", "partNumber", "restore", "select"}

// classify names the operation of r and, for S3, the bucket and object key
// it names (path-style addressing: /bucket/key). An SNS form body is read
// and put back for forwarding.
func classify(r *http.Request) (op Op, bucket, key string, err error) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return "", "", "", fmt.Errorf("read form: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", "", "", fmt.Errorf("parse form: %v", err)
		}
		if action := form.Get("Action"); action != "" {
			return Op(action), "", "", nil
		}
	}

	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return s3Op(r, key), bucket, key, nil
}

// s3Op names the S3 operation of r on key.
func s3Op(r *http.Request, key string) Op {
	q := r.URL.Query()
	if key == "" {
		return OtherS3
	}
	for _, sub := range s3SubResources {
		if q.Has(sub) {
			return OtherS3
		}
	}
	tagging := q.Has("tagging")
	switch {
	case r.Method == http.MethodGet && tagging:
		return GetObjectTagging
	case r.Method == http.MethodPut && tagging:
		return PutObjectTagging
	case r.Method == http.MethodGet:
		return GetObject
	case r.Method == http.MethodHead:
		return HeadObject
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return CopyObject
	case r.Method == http.MethodPut:
		return PutObject
	}
	return OtherS3
}

// serviceError is one error answer as a service sends it.
type serviceError struct {
	status        int
	code, message string
}

// s3Errors and snsErrors hold each fault's answer.
var (
	s3Errors = map[Fault]serviceError{
		Throttle:      {http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."},
		SNSThrottled:  {http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."},
		InternalError: {http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."},
		AccessDenied:  {http.StatusForbidden, "AccessDenied", "Access Denied"},
	}
	snsErrors = map[Fault]serviceError{
		Throttle:      {http.StatusBadRequest, "Throttling", "Rate exceeded"},
		SNSThrottled:  {http.StatusTooManyRequests, "Throttled", "Rate exceeded"},
		InternalError: {http.StatusInternalServerError, "InternalError", "Internal error"},
		AccessDenied:  {http.StatusForbidden, "AuthorizationError", "User is not authorized to perform: SNS:Publish"},
	}
)

// requestID is the made-up request ID in every error answer.
const requestID = "FAULTPROXY0000001"

// writeError answers with fault's error, in S3's REST-XML or SNS's query
// protocol shape depending on op. HEAD answers carry no body, as S3's.
func writeError(w http.ResponseWriter, r *http.Request, op Op, fault Fault) {
	if isSNS(op) {
		e := snsErrors[fault]
		typ := "Sender"
		if e.status >= 500 {
			typ = "Receiver"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", requestID)
		w.WriteHeader(e.status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			typ, e.code, e.message, requestID)
		return
	}
	e := s3Errors[fault]
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", requestID)
	w.Header().Set("X-Amz-Id-2", "faultproxy")
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>faultproxy</HostId></Error>`,
		e.code, e.message, requestID)
}

func isSNS(op Op) bool {
	switch op {
	case GetObject, HeadObject, PutObject, CopyObject, GetObjectTagging, PutObjectTagging, OtherS3:
		return false
	}
	return true
}

// reset drops the client's connection with a TCP RST (linger 0), as a load
// balancer or a dying host does.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// Never on this HTTP/1.1 server; still a failure the client sees.
		http.Error(w, "faultproxy: connection cannot be hijacked", http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
