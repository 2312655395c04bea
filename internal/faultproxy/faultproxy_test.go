package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name    string
		method  string
		target  string
		header  string
		form    string
		wantOp  Op
		wantKey string
	}{
		// Every S3 case names bucket "b".
		{"GetObject", "GET", "/b/feeds/a%20b.txt?versionId=v1", "", "", GetObject, "feeds/a b.txt"},
		{"HeadObject", "HEAD", "/b/a.txt.report.json", "", "", HeadObject, "a.txt.report.json"},
		{"PutObject", "PUT", "/b/a.txt.report.json?x-id=PutObject", "", "", PutObject, "a.txt.report.json"},
		{"CopyObject", "PUT", "/b/a.txt", "X-Amz-Copy-Source", "", CopyObject, "a.txt"},
		{"GetObjectTagging", "GET", "/b/a.txt?tagging&versionId=v1", "", "", GetObjectTagging, "a.txt"},
		{"PutObjectTagging", "PUT", "/b/a.txt?tagging=", "", "", PutObjectTagging, "a.txt"},
		{"UploadPart", "PUT", "/b/a.txt?partNumber=1&uploadId=x", "", "", OtherS3, "a.txt"},
		{"ListObjects", "GET", "/b?list-type=2", "", "", OtherS3, ""},
		{"Publish", "POST", "/", "", "Action=Publish&Version=2010-03-31&Message=hi", Publish, ""},
		{"CreateTopic", "POST", "/", "", "Action=CreateTopic&Name=t", "CreateTopic", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.form))
			if tc.form != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			}
			if tc.header != "" {
				r.Header.Set(tc.header, "x")
			}
			wantBucket := "b"
			if tc.form != "" {
				wantBucket = ""
			}
			op, bucket, key, err := classify(r)
			if err != nil || op != tc.wantOp || bucket != wantBucket || key != tc.wantKey {
				t.Errorf("classify(%s %s) = %q, %q, %q, %v; want %q, %q, %q, nil", tc.method, tc.target, op, bucket, key, err, tc.wantOp, wantBucket, tc.wantKey)
			}
			if tc.form != "" {
				if b, _ := io.ReadAll(r.Body); string(b) != tc.form {
					t.Errorf("body after classify = %q; want %q", b, tc.form)
				}
			}
		})
	}
}

// upstream counts requests and answers "ok" with the Host it saw.
func upstream(t *testing.T) (*Proxy, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, "ok "+r.Host)
	}))
	t.Cleanup(up.Close)
	p, err := New(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, &n
}

func TestProxy_ErrorAnswers(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		path       string
		form       string
		fault      Fault
		wantStatus int
		wantBody   string
	}{
		{"S3Throttle", "GET", "/b/k", "", Throttle, 503, "<Code>SlowDown</Code>"},
		{"S3Internal", "PUT", "/b/k", "", InternalError, 500, "<Code>InternalError</Code>"},
		{"S3Denied", "GET", "/b/k?tagging", "", AccessDenied, 403, "<Code>AccessDenied</Code>"},
		{"S3HeadNoBody", "HEAD", "/b/k", "", AccessDenied, 403, ""},
		{"SNSThrottle", "POST", "/", "Action=Publish", Throttle, 400, "<Type>Sender</Type><Code>Throttling</Code>"},
		{"SNSThrottled", "POST", "/", "Action=Publish", SNSThrottled, 429, "<Code>Throttled</Code>"},
		{"SNSInternal", "POST", "/", "Action=Publish", InternalError, 500, "<Type>Receiver</Type><Code>InternalError</Code>"},
		{"SNSDenied", "POST", "/", "Action=Publish", AccessDenied, 403, "<Code>AuthorizationError</Code>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, n := upstream(t)
			p.Add(Rule{Fault: tc.fault})
			req, _ := http.NewRequest(tc.method, p.URL+tc.path, strings.NewReader(tc.form))
			if tc.form != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("%s %s = %d %q; want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if got := n.Load(); got != 0 {
				t.Errorf("upstream requests = %d; want 0", got)
			}
		})
	}
}

func TestProxy_SkipTimesAndSelectors(t *testing.T) {
	p, n := upstream(t)
	p.Add(Rule{Op: PutObject, KeySuffix: ".report.json", Header: "X-Amz-Meta-Mark", Fault: InternalError, Skip: 1, Times: 2})
	put := func(key string, mark bool) int {
		req, _ := http.NewRequest("PUT", p.URL+"/b/"+url.PathEscape(key), strings.NewReader("x"))
		if mark {
			req.Header.Set("X-Amz-Meta-Mark", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var got []int
	got = append(got, put("a.txt", true))              // other key: passes
	got = append(got, put("a.txt.report.json", false)) // no header: passes
	for range 4 {                                      // skip 1, fail 2, then pass
		got = append(got, put("a.txt.report.json", true))
	}
	want := []int{200, 200, 200, 500, 500, 200}
	if !slices.Equal(got, want) {
		t.Errorf("statuses = %v; want %v", got, want)
	}
	if p.Seen(PutObject) != 6 || p.Injected(PutObject) != 2 || n.Load() != 4 {
		t.Errorf("seen %d, injected %d, upstream %d; want 6, 2, 4", p.Seen(PutObject), p.Injected(PutObject), n.Load())
	}
	reqs := p.Requests()
	if len(reqs) != 6 || reqs[3] != (Request{Op: PutObject, Method: "PUT", Bucket: "b", Key: "a.txt.report.json", Faulted: true}) {
		t.Errorf("Requests() = %+v; want 6, the 4th faulted", reqs)
	}
	p.Clear()
	if s := put("a.txt.report.json", true); s != 200 {
		t.Errorf("after Clear status = %d; want 200", s)
	}
}

func TestProxy_HostKept(t *testing.T) {
	p, _ := upstream(t)
	resp, err := http.Get(p.URL + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "ok " + strings.TrimPrefix(p.URL, "http://"); string(body) != want {
		t.Errorf("upstream saw %q; want %q", body, want)
	}
}

func TestProxy_ResetAndLoseResponse(t *testing.T) {
	cases := []struct {
		fault        Fault
		wantUpstream int32
	}{
		{Reset, 0},
		{LoseResponse, 1},
	}
	for _, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			p, n := upstream(t)
			p.Add(Rule{Op: Publish, Fault: tc.fault})
			client := &http.Client{Transport: &http.Transport{}}
			resp, err := client.Post(p.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=Publish"))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("POST Publish = %d; want a connection error", resp.StatusCode)
			}
			if got := n.Load(); got != tc.wantUpstream {
				t.Errorf("upstream requests = %d; want %d", got, tc.wantUpstream)
			}
		})
	}
}
