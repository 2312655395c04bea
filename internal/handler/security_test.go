package handler_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/faultproxy"
	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/report"
	"github.com/flatguard/flatguard/internal/storage"
	"github.com/flatguard/flatguard/internal/validate"
)

// cloudFrontPolicy is a custom CloudFront policy in CloudFront's base64
// alphabet ('-', '_', '~' for '+', '=', '/'): the whole value is secret.
var cloudFrontPolicy = strings.NewReplacer("+", "-", "=", "_", "/", "~").Replace(base64.StdEncoding.EncodeToString(
	[]byte(`{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/s/cfp.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`)))

// secretURLs holds one image URL per row, each carrying secrets of one
// scheme. The secret values are distinctive and alphanumeric, so a plain
// substring search finds them in any output, JSON-escaped or not.
var secretURLs = []struct {
	url     string
	secrets []string
}{
	{"https://example-bucket.s3.amazonaws.com/s/v4.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASECRETVFOURCRED%2F20251130%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20251130T120000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Security-Token=SECRETSESSIONTOKENvfour&X-Amz-Signature=SECRETSIGVFOURaaaa",
		[]string{"AKIASECRETVFOURCRED", "SECRETSESSIONTOKENvfour", "SECRETSIGVFOURaaaa"}},
	{"https://example-bucket.s3.amazonaws.com/s/v2.jpg?AWSAccessKeyId=AKIASECRETVTWOKEY&Expires=1767290400&Signature=SECRETSIGVTWObbbb%2Bcc%3D",
		[]string{"AKIASECRETVTWOKEY", "SECRETSIGVTWObbbb"}},
	{"https://d111111abcdef8.cloudfront.net/s/cf.jpg?Expires=1767290400&Signature=SECRETCFSIGcanned~aa__&Key-Pair-Id=KSECRETCFKEYPAIRone",
		[]string{"SECRETCFSIGcanned", "KSECRETCFKEYPAIRone"}},
	{"https://d111111abcdef8.cloudfront.net/s/cfp.jpg?Policy=" + cloudFrontPolicy + "&Signature=SECRETCFSIGpolicy~bb&Key-Pair-Id=KSECRETCFKEYPAIRtwo",
		[]string{cloudFrontPolicy, cloudFrontPolicy[8:40], "SECRETCFSIGpolicy", "KSECRETCFKEYPAIRtwo"}},
	{"https://storage.googleapis.com/bkt/g4.jpg?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=secretgcsvfoursvc%40proj.iam.gserviceaccount.com%2F20251130%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20251130T120000Z&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&X-Goog-Signature=5ec7e7gcsvfoursignature",
		[]string{"secretgcsvfoursvc", "5ec7e7gcsvfoursignature"}},
	{"https://storage.googleapis.com/bkt/g2.jpg?GoogleAccessId=secretgcsvtwosvc%40proj.iam.gserviceaccount.com&Expires=1767290400&Signature=SECRETGCSVTWOSIG%2Fxx%3D",
		[]string{"secretgcsvtwosvc", "SECRETGCSVTWOSIG"}},
	{"https://acct.blob.core.windows.net/c/az.jpg?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&st=2025-11-01T00:00:00Z&spr=https&sig=SECRETAZURESIGzz%2Bq%3D",
		[]string{"SECRETAZURESIGzz"}},
	{"https://www.dropbox.com/scl/fi/abc123/photo.jpg?rlkey=SECRETDROPBOXRLKEY&dl=0",
		[]string{"SECRETDROPBOXRLKEY"}},
	{"https://seller:SECRETPASSWORDuserinfo@images.example.com/catalog/u.jpg",
		[]string{"SECRETPASSWORDuserinfo"}},
	{"https://images.example.com/catalog/p.jpg?token=SECRETTOKENparam&api_key=SECRETAPIKEYparam&access_token=SECRETACCESSTOKENparam&password=SECRETPASSWORDparam&auth=SECRETAUTHparam&key=SECRETKEYparam",
		[]string{"SECRETTOKENparam", "SECRETAPIKEYparam", "SECRETACCESSTOKENparam", "SECRETPASSWORDparam", "SECRETAUTHparam", "SECRETKEYparam"}},
	// Malformed URLs: a bad escape, a bad IPv6 host, an inner space, a
	// password holding a slash.
	{"https://images.example.com/catalog/m%zz.jpg?X-Amz-Signature=SECRETMALFORMEDsig",
		[]string{"SECRETMALFORMEDsig"}},
	{"https://[::1/m2.jpg?token=SECRETMALFORMEDbracket",
		[]string{"SECRETMALFORMEDbracket"}},
	{"https://images.example.com/catalog/m3.jpg?access_token=SECRETMALFORMEDspace x",
		[]string{"SECRETMALFORMEDspace"}},
	// NOTE: fails until validate's parseReason stops quoting url.Parse's
	// "invalid port" text, which is the password here.
	{"https://seller:SECRETSLASH/PASSWORD@images.example.com/catalog/m4.jpg",
		[]string{"SECRETSLASH", "PASSWORD@images"}},
	// Redirect chains that carry secrets: to a signed image, to a 404 with
	// a token, to a relative signed location, and a loop.
	{"https://images.example.com/secrets/redirect.jpg",
		[]string{"AKIASECRETREDIRCRED", "SECRETREDIRECTSIGcc", "SECRETREDIRECTtokenhop"}},
	{"https://images.example.com/secrets/redirect404.jpg",
		[]string{"SECRETREDIRECTfourohfour"}},
	{"https://images.example.com/secrets/relative.jpg",
		[]string{"SECRETRELATIVEsig", "AKIASECRETRELKEY"}},
	{"https://images.example.com/secrets/loop.jpg?token=SECRETLOOPTOKEN",
		[]string{"SECRETLOOPTOKEN"}},
}

// registerSecretRedirects serves the redirect chains of secretURLs.
func registerSecretRedirects() {
	redirect := func(to string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to, http.StatusFound)
		})
	}
	host.Mux.Handle("/secrets/redirect.jpg", redirect("https://images.example.com/secrets/hop.jpg?token=SECRETREDIRECTtokenhop"))
	host.Mux.Handle("/secrets/hop.jpg", redirect("https://example-bucket.s3.amazonaws.com/secrets/final.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASECRETREDIRCRED%2F20251130%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20251130T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=SECRETREDIRECTSIGcc"))
	host.Mux.Handle("/secrets/redirect404.jpg", redirect("https://images.example.com/secrets/missing.jpg?access_token=SECRETREDIRECTfourohfour"))
	host.Mux.Handle("/secrets/missing.jpg", http.NotFoundHandler())
	host.Mux.Handle("/secrets/relative.jpg", redirect("/secrets/rel-final.jpg?AWSAccessKeyId=AKIASECRETRELKEY&Expires=1767290400&Signature=SECRETRELATIVEsig"))
	host.Mux.Handle("/secrets/loop.jpg", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
	}))
}

// secretFeed is an Amazon template with one secretURLs entry per data row.
func secretFeed() []byte {
	var b bytes.Buffer
	b.WriteString("TemplateType=fptcustom\tVersion=2019.1209\nSKU\tMain Image URL\nitem_sku\tmain_image_url\n")
	for i, s := range secretURLs {
		fmt.Fprintf(&b, "SECRET-%02d\t%s\n", i+1, s.url)
	}
	return b.Bytes()
}

// Every output of a run over a file full of secrets: the report objects, the
// text and HTML renderings, the notification, the tags and every log line
// at DEBUG.
func TestHandle_SecretsNeverLeak(t *testing.T) {
	registerSecretRedirects()
	ctx := context.Background()
	var logs bytes.Buffer
	hd := *h
	hd.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	key := "secrets/feed.txt"
	feed := secretFeed()
	out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(feed)})
	if err != nil {
		t.Fatal(err)
	}
	version := aws.ToString(out.VersionId)
	ev := devstack.S3Event(bucket, key, int64(len(feed)), aws.ToString(out.ETag), version)
	if err := hd.Handle(ctx, ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	outputs := map[string]string{"logs": logs.String()}
	outputs["report.json"] = string(object(t, key+handler.JSONSuffix))
	outputs["report.html object"] = string(object(t, key+handler.HTMLSuffix))
	rep := storedReport(t, key)
	var text bytes.Buffer
	if err := report.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	outputs["text rendering"] = text.String()
	// The HTML page with thumbnails needs the in-memory report (its passed
	// images are not in the JSON): run the pipeline on the same bytes.
	live, err := h.Pipeline.Run(ctx, validate.Input{Source: rep.Source, Name: key, Body: bytes.NewReader(feed)})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, live, live.Passed); err != nil {
		t.Fatal(err)
	}
	outputs["html rendering"] = page.String()
	note := notesFor(t, key, 1)[0]
	outputs["notification subject"] = note.Subject
	outputs["notification body"] = note.Message
	outputs["notification attributes"] = fmt.Sprint(note.Attributes)
	tags, err := s3c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		t.Fatal(err)
	}
	outputs["tags"] = fmt.Sprint(tagMap(tags.TagSet))

	for name, text := range outputs {
		for _, s := range secretURLs {
			for _, secret := range s.secrets {
				if strings.Contains(text, secret) {
					t.Errorf("%s leaks %q (from %.60s...)", name, secret, s.url)
				}
			}
		}
	}
	if !strings.Contains(logs.String(), `"msg":"object checked"`) {
		t.Errorf("logs lack the closing line, so they were not all searched:\n%s", logs.String())
	}

	// The run did look at every URL: each row has the finding it should.
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s", f.SKU, f.Code))
	}
	want := []string{
		"SECRET-01 presigned_url", "SECRET-02 presigned_url", "SECRET-03 presigned_url", "SECRET-04 presigned_url",
		"SECRET-05 presigned_url", "SECRET-05 unreachable", "SECRET-06 presigned_url", "SECRET-06 unreachable",
		"SECRET-07 presigned_url", "SECRET-07 unreachable", "SECRET-08 share_link", "SECRET-08 unreachable",
		"SECRET-11 invalid_url", "SECRET-12 invalid_url", "SECRET-13 invalid_url", "SECRET-14 invalid_url",
		"SECRET-15 redirected", "SECRET-16 http_status", "SECRET-17 redirected", "SECRET-18 unreachable",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range rep.Findings {
		if f.SKU == "SECRET-16" {
			wantChain := []any{
				map[string]any{"url": "https://images.example.com/secrets/redirect404.jpg", "status": float64(302)},
			}
			if diff := cmp.Diff(wantChain, f.Detail["redirects"]); diff != "" {
				t.Errorf("redirect chain of SECRET-16 (-want +got):\n%s", diff)
			}
			if want := "https://images.example.com/secrets/redirect404.jpg"; f.URL != want {
				t.Errorf("url of SECRET-16 = %q; want %q", f.URL, want)
			}
		}
	}
}

// object reads an object of the upload bucket whole.
func object(t *testing.T, key string) []byte {
	t.Helper()
	b, ok := objectIfExists(t, key)
	if !ok {
		t.Fatalf("object %q does not exist", key)
	}
	return b
}

func objectIfExists(t *testing.T, key string) ([]byte, bool) {
	t.Helper()
	out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errorCode(err) == "NoSuchKey" || errorAs(err, &nsk) {
			return nil, false
		}
		t.Fatalf("GetObject(%q): %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

func tagMap(ts []types.Tag) map[string]string {
	m := make(map[string]string, len(ts))
	for _, tg := range ts {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// The handler reads and writes only the bucket the event names, and with
// UploadBucket set it touches nothing at all for another bucket's event.
func TestHandle_WritesOnlyTheEventBucket(t *testing.T) {
	ctx := context.Background()
	const other = "flatguard-other-uploads"
	if err := stack.CreateBucket(ctx, other); err != nil {
		t.Fatal(err)
	}
	key := "scope/feed.txt"
	out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(other), Key: aws.String(key), Body: strings.NewReader(smallFeed)})
	if err != nil {
		t.Fatal(err)
	}
	ev := devstack.S3Event(other, key, int64(len(smallFeed)), aws.ToString(out.ETag), aws.ToString(out.VersionId))

	t.Run("AnyBucket", func(t *testing.T) {
		f := newFaulty(t)
		f.h.UploadBucket = ""
		if err := f.h.Handle(ctx, ev); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		reqs := f.s3p.Requests()
		var ops []faultproxy.Op
		for _, r := range reqs {
			ops = append(ops, r.Op)
			if r.Bucket != other {
				t.Errorf("%s %s/%s: the event names bucket %s", r.Op, r.Bucket, r.Key, other)
			}
		}
		wantOps := []faultproxy.Op{faultproxy.HeadObject, faultproxy.GetObject, faultproxy.GetObjectTagging,
			faultproxy.PutObjectTagging, faultproxy.PutObject, faultproxy.PutObject, faultproxy.PutObject}
		if diff := cmp.Diff(wantOps, ops); diff != "" {
			t.Errorf("S3 calls (-want +got):\n%s", diff)
		}
		if _, ok := objectIfExists(t, key+handler.JSONSuffix); ok {
			t.Errorf("a report for %s/%s was written into %s", other, key, bucket)
		}
		note := notesFor(t, key, 1)[0]
		if note.Attributes["bucket"] != other {
			t.Errorf("notification bucket = %q; want %q", note.Attributes["bucket"], other)
		}
	})

	t.Run("UploadBucketSet", func(t *testing.T) {
		f := newFaulty(t)
		refused := devstack.S3Event(other, "scope/refused.txt", 10, "x", "v1")
		if err := f.h.Handle(ctx, refused); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if n, m := f.s3p.Seen(faultproxy.Any), f.snsp.Seen(faultproxy.Any); n != 0 || m != 0 {
			t.Errorf("S3 and SNS requests = %d, %d; want 0, 0", n, m)
		}
		for _, s := range []string{`"level":"ERROR"`, `"msg":"event refused: bucket is not the upload bucket"`, `"bucket":"` + other + `"`, `"uploadBucket":"` + bucket + `"`} {
			if !strings.Contains(f.logs.String(), s) {
				t.Errorf("log lacks %s:\n%s", s, f.logs.String())
			}
		}
		notesFor(t, "scope/refused.txt", 0)
	})
}

// An object that already holds S3's maximum of 10 tags keeps them all and
// still gets its report and notification; the report says the tag was
// skipped. A forged verdict tag does not count against the limit: it is
// replaced by the real verdict.
func TestHandle_TagLimit(t *testing.T) {
	ctx := context.Background()
	failing := strings.Replace(smallFeed, "ok.jpg", "ok.jpg?X-Amz-Signature=abc&X-Amz-Credential=AKIAEXAMPLE", 1)
	tags := func(n int, extra string) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf("team%d=value%d", i, i))
		}
		if extra != "" {
			parts = append(parts, extra)
		}
		return strings.Join(parts, "&")
	}
	want := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("team%d", i)] = fmt.Sprintf("value%d", i)
		}
		return m
	}
	cases := []struct {
		name       string
		tagging    string
		wantTags   map[string]string
		wantSkiped bool
	}{
		{"TenTags", tags(10, ""), want(10), true},
		{"ForgedVerdict", tags(9, storage.StatusTag+"=pass"), func() map[string]string {
			m := want(9)
			m[storage.StatusTag] = "fail"
			return m
		}(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "tags/" + tc.name + "/feed.txt"
			out, err := s3c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(failing), Tagging: aws.String(tc.tagging),
			})
			if err != nil {
				t.Fatal(err)
			}
			version := aws.ToString(out.VersionId)
			ev := devstack.S3Event(bucket, key, int64(len(failing)), aws.ToString(out.ETag), version)
			if err := h.Handle(ctx, ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			rep := storedReport(t, key)
			if rep.Status != report.StatusFail || rep.TagSkipped != tc.wantSkiped {
				t.Errorf("report status %s, tagSkipped %v; want fail, %v", rep.Status, rep.TagSkipped, tc.wantSkiped)
			}
			got, err := s3c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantTags, tagMap(got.TagSet)); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			note := notesFor(t, key, 1)[0]
			if note.Attributes["status"] != "fail" {
				t.Errorf("notification status = %q; want fail", note.Attributes["status"])
			}
		})
	}
}
