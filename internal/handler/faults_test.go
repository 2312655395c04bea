package handler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/faultproxy"
	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/notify"
	"github.com/flatguard/flatguard/internal/storage"
)

// faulty is a handler whose S3 and SNS clients reach the devstack through
// fault proxies, with the SDK's standard retryer (3 attempts) and its
// backoff cut to milliseconds.
type faulty struct {
	s3p, snsp *faultproxy.Proxy
	h         *handler.Handler
	logs      *bytes.Buffer
}

func newFaulty(t *testing.T) *faulty {
	t.Helper()
	s3p, err := faultproxy.New(stack.S3Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3p.Close() })
	snsp, err := faultproxy.New(stack.SNSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snsp.Close() })

	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 2 * time.Millisecond })
	}
	s3c := s3.NewFromConfig(stack.AWSConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s3p.URL)
		o.UsePathStyle = true
		o.Retryer = retryer()
	})
	snsc := sns.NewFromConfig(stack.AWSConfig(), func(o *sns.Options) {
		o.BaseEndpoint = aws.String(snsp.URL)
		o.Retryer = retryer()
	})
	f := &faulty{s3p: s3p, snsp: snsp, logs: &bytes.Buffer{}}
	f.h = &handler.Handler{
		Store:        storage.New(s3c),
		Publisher:    notify.New(snsc, topic),
		Pipeline:     h.Pipeline,
		UploadBucket: bucket,
		Region:       stack.Region,
		Logger:       slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return f
}

// put uploads body under key (directly, not through the proxy) and returns
// the version and the S3 event.
func (f *faulty) put(t *testing.T, key string, body []byte) (string, func() error) {
	t.Helper()
	out, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%q): %v", key, err)
	}
	v := aws.ToString(out.VersionId)
	ev := devstack.S3Event(bucket, key, int64(len(body)), aws.ToString(out.ETag), v)
	return v, func() error { return f.h.Handle(context.Background(), ev) }
}

// reportState reads the idempotency metadata of key's report.
func reportState(t *testing.T, key string) storage.ReportState {
	t.Helper()
	st, err := storage.New(s3c).ReportState(context.Background(), bucket, key+handler.JSONSuffix)
	if err != nil {
		t.Fatalf("ReportState(%q): %v", key, err)
	}
	return st
}

// errorCode is the AWS error code inside err, "" when there is none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// faultSites are the AWS calls the issue names, each as a rule on the
// proxy in front of its service. The source key ends in ".txt", the report
// key in ".report.json".
var faultSites = []struct {
	name  string
	sns   bool
	rule  faultproxy.Rule
	codes map[faultproxy.Fault]string
}{
	{"GetObject", false, faultproxy.Rule{Op: faultproxy.GetObject, KeySuffix: ".txt"}, s3Codes},
	{"PutReport", false, faultproxy.Rule{Op: faultproxy.PutObject, KeySuffix: handler.JSONSuffix}, s3Codes},
	{"PutTagging", false, faultproxy.Rule{Op: faultproxy.PutObjectTagging}, s3Codes},
	{"Publish", true, faultproxy.Rule{Op: faultproxy.Publish}, snsCodes},
}

var (
	s3Codes  = map[faultproxy.Fault]string{faultproxy.Throttle: "SlowDown", faultproxy.InternalError: "InternalError", faultproxy.AccessDenied: "AccessDenied"}
	snsCodes = map[faultproxy.Fault]string{faultproxy.Throttle: "Throttling", faultproxy.InternalError: "InternalError", faultproxy.AccessDenied: "AuthorizationError"}
	faults   = []faultproxy.Fault{faultproxy.Throttle, faultproxy.InternalError, faultproxy.AccessDenied, faultproxy.Reset}
)

// retryable reports whether the SDK retries the fault by itself.
func retryable(f faultproxy.Fault) bool { return f != faultproxy.AccessDenied }

// A fault that clears within the SDK's three attempts costs nothing: the
// first invocation succeeds. AccessDenied is never retried by the SDK, so
// even a single one fails the invocation, and Lambda's retry completes it.
// Either way: one report, one notification, the tag set.
func TestHandle_TransientAWSFaults(t *testing.T) {
	for _, site := range faultSites {
		for _, fault := range faults {
			t.Run(site.name+"/"+fault.String(), func(t *testing.T) {
				f := newFaulty(t)
				proxy := f.s3p
				if site.sns {
					proxy = f.snsp
				}
				rule := site.rule
				rule.Fault, rule.Times = fault, 2
				if !retryable(fault) {
					rule.Times = 1
				}
				proxy.Add(rule)
				key := fmt.Sprintf("faults/transient/%s-%s/feed.txt", site.name, fault)
				version, handle := f.put(t, key, []byte(smallFeed))

				err := handle()
				if retryable(fault) && err != nil {
					t.Fatalf("Handle with %d transient faults: %v", rule.Times, err)
				}
				if !retryable(fault) {
					if code := errorCode(err); code != site.codes[fault] {
						t.Fatalf("Handle error code = %q (%v); want %q", code, err, site.codes[fault])
					}
					if err := handle(); err != nil {
						t.Fatalf("Handle (Lambda's retry): %v", err)
					}
				}
				if got := proxy.Injected(site.rule.Op); got != rule.Times {
					t.Errorf("faults injected = %d; want %d", got, rule.Times)
				}
				if err := handle(); err != nil { // a duplicate delivery
					t.Fatalf("Handle (duplicate): %v", err)
				}
				notesFor(t, key, 1)
				if st := reportState(t, key); !st.Exists || st.SourceVersion != version || st.Notified == "" {
					t.Errorf("report state = %+v; want a report about %s marked notified", st, version)
				}
				if got := statusTag(t, key, version); got != "pass" {
					t.Errorf("tag = %q; want pass", got)
				}
			})
		}
	}
}

// A fault that outlasts the SDK's retries fails the invocation, leaves no
// notification (and no report unless the report itself was written), and
// once it clears, Lambda's retry ends with exactly one report and one
// notification.
func TestHandle_PersistentAWSFaults(t *testing.T) {
	for _, site := range faultSites {
		for _, fault := range faults {
			t.Run(site.name+"/"+fault.String(), func(t *testing.T) {
				f := newFaulty(t)
				proxy := f.s3p
				if site.sns {
					proxy = f.snsp
				}
				rule := site.rule
				rule.Fault = fault
				proxy.Add(rule)
				key := fmt.Sprintf("faults/persistent/%s-%s/feed.txt", site.name, fault)
				version, handle := f.put(t, key, []byte(smallFeed))

				err := handle()
				if err == nil {
					t.Fatal("Handle with a persistent fault = nil; want an error so that Lambda retries")
				}
				if want := site.codes[fault]; fault != faultproxy.Reset && errorCode(err) != want {
					t.Errorf("Handle error code = %q (%v); want %q", errorCode(err), err, want)
				}
				wantAttempts := 3
				if !retryable(fault) {
					wantAttempts = 1
				}
				// Go's transport replays a GET once by itself when a reused
				// connection is reset, so resets count at least 3.
				if got := proxy.Injected(site.rule.Op); got != wantAttempts && !(fault == faultproxy.Reset && got >= wantAttempts) {
					t.Errorf("attempts = %d; want %d", got, wantAttempts)
				}
				for _, s := range []string{`"level":"ERROR"`, `"msg":"object not handled; Lambda will retry"`, `"key":"` + key + `"`} {
					if !strings.Contains(f.logs.String(), s) {
						t.Errorf("log lacks %s:\n%s", s, f.logs.String())
					}
				}
				notesFor(t, key, 0)
				// Only a publish failure leaves a report: written, not marked.
				st := reportState(t, key)
				if want := (storage.ReportState{}); site.name == "Publish" {
					want = storage.ReportState{Exists: true, SourceVersion: version, Sequencer: st.Sequencer}
					if st != want || st.Sequencer == "" {
						t.Errorf("report state after failed publish = %+v; want %+v", st, want)
					}
				} else if st != want {
					t.Errorf("report state after failed %s = %+v; want none", site.name, st)
				}

				proxy.Clear()
				if err := handle(); err != nil {
					t.Fatalf("Handle (Lambda's retry, fault cleared): %v", err)
				}
				if err := handle(); err != nil {
					t.Fatalf("Handle (duplicate): %v", err)
				}
				note := notesFor(t, key, 1)[0]
				if note.Attributes["status"] != "pass" || note.Attributes["versionId"] != version {
					t.Errorf("notification attributes = %v; want status pass, versionId %s", note.Attributes, version)
				}
				if st := reportState(t, key); !st.Exists || st.SourceVersion != version || st.Notified == "" {
					t.Errorf("report state = %+v; want a report about %s marked notified", st, version)
				}
			})
		}
	}
}

// SNS's modelled throttling error (429 Throttled) and a lost answer to the
// report PUT: the SDK retries both by itself.
func TestHandle_MoreTransientFaults(t *testing.T) {
	cases := []struct {
		name string
		sns  bool
		rule faultproxy.Rule
	}{
		{"PublishThrottled429", true, faultproxy.Rule{Op: faultproxy.Publish, Fault: faultproxy.SNSThrottled, Times: 2}},
		{"PutReportAnswerLost", false, faultproxy.Rule{Op: faultproxy.PutObject, KeySuffix: handler.JSONSuffix, Fault: faultproxy.LoseResponse, Times: 1}},
		{"HeadReportThrottled", false, faultproxy.Rule{Op: faultproxy.HeadObject, Fault: faultproxy.Throttle, Times: 2}},
		{"GetTaggingReset", false, faultproxy.Rule{Op: faultproxy.GetObjectTagging, Fault: faultproxy.Reset, Times: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaulty(t)
			proxy := f.s3p
			if tc.sns {
				proxy = f.snsp
			}
			proxy.Add(tc.rule)
			key := "faults/more/" + tc.name + "/feed.txt"
			_, handle := f.put(t, key, []byte(smallFeed))
			if err := handle(); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got := proxy.Injected(tc.rule.Op); got != tc.rule.Times {
				t.Errorf("faults injected = %d; want %d", got, tc.rule.Times)
			}
			notesFor(t, key, 1)
		})
	}
}

// The mark written after publishing fails for good. The verdict is out, so
// the handler does not fail the invocation (a Lambda retry would publish
// it again): one notification, a WARN line, the report unmarked.
func TestHandle_NotifiedMarkFails(t *testing.T) {
	f := newFaulty(t)
	f.s3p.Add(faultproxy.Rule{
		Op:        faultproxy.PutObject,
		KeySuffix: handler.JSONSuffix,
		Header:    "X-Amz-Meta-" + storage.MetaNotified,
		Fault:     faultproxy.InternalError,
	})
	key := "faults/mark/feed.txt"
	version, handle := f.put(t, key, []byte(smallFeed))
	if err := handle(); err != nil {
		t.Fatalf("Handle: %v; want nil, the verdict was published", err)
	}
	if got := f.s3p.Injected(faultproxy.PutObject); got != 3 {
		t.Errorf("mark attempts = %d; want 3", got)
	}
	notesFor(t, key, 1)
	for _, s := range []string{`"level":"WARN"`, `"msg":"verdict published but not marked on the report; a duplicate delivery may publish it again"`, `"reportKey":"` + key + `.report.json"`} {
		if !strings.Contains(f.logs.String(), s) {
			t.Errorf("log lacks %s:\n%s", s, f.logs.String())
		}
	}
	if strings.Contains(f.logs.String(), `"level":"ERROR"`) {
		t.Errorf("log has an ERROR line; want none:\n%s", f.logs.String())
	}
	st := reportState(t, key)
	if want := (storage.ReportState{Exists: true, SourceVersion: version, Sequencer: st.Sequencer}); st != want || st.Sequencer == "" {
		t.Errorf("report state = %+v; want %+v", st, want)
	}
}

// The publish reached SNS but its answer was lost: the SDK cannot know, and
// retries. SNS standard topics do not deduplicate, so subscribers get the
// verdict twice, identical, with the same versionId attribute to drop the
// repeat by. This pins the documented at-least-once behaviour.
func TestHandle_PublishAnswerLostIsAtLeastOnce(t *testing.T) {
	f := newFaulty(t)
	f.snsp.Add(faultproxy.Rule{Op: faultproxy.Publish, Fault: faultproxy.LoseResponse, Times: 1})
	key := "faults/lost-publish/feed.txt"
	version, handle := f.put(t, key, []byte(smallFeed))
	if err := handle(); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	notes := notesFor(t, key, 2)
	if notes[0].Subject != notes[1].Subject || notes[0].Message != notes[1].Message ||
		notes[0].Attributes["versionId"] != version || notes[1].Attributes["versionId"] != version {
		t.Errorf("repeated notifications differ: %+v / %+v", notes[0], notes[1])
	}
	if err := handle(); err != nil {
		t.Fatalf("Handle (duplicate): %v", err)
	}
	notesFor(t, key, 2)
}

func errorAs(err error, target any) bool { return errors.As(err, target) }
