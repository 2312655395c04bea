package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/imagehost"
	"github.com/flatguard/flatguard/internal/notify"
	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
	"github.com/flatguard/flatguard/internal/storage"
	"github.com/flatguard/flatguard/internal/validate"
)

const (
	bucket    = "flatguard-uploads"
	corpusDir = "../../testdata/corpus"
)

// clock is the injected "now": the CloudFront link in the fptcustom file
// (Expires=1767290400, 2026-01-01T18:00:00Z) is still live at this time,
// the SigV4 and SigV2 links (January 2024) are long expired. The verdicts
// never change with the real date.
var clock = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

// The stack, image host and handler are shared by the tests of this
// package: one S3 gateway per process.
var (
	stack *devstack.Stack
	host  *imagehost.Host
	h     *handler.Handler
	s3c   *s3.Client
	topic string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	stack, err = devstack.Start(ctx, devstack.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start devstack:", err)
		return 1
	}
	defer stack.Close()
	if err := stack.CreateBucket(ctx, bucket); err != nil {
		fmt.Fprintln(os.Stderr, "create bucket:", err)
		return 1
	}
	if topic, err = stack.CreateTopic(ctx, "verdicts"); err != nil {
		fmt.Fprintln(os.Stderr, "create topic:", err)
		return 1
	}
	host, err = imagehost.Start("images.example.com", "example-bucket.s3.eu-west-1.amazonaws.com",
		"example-bucket.s3.amazonaws.com", "d111111abcdef8.cloudfront.net")
	if err != nil {
		fmt.Fprintln(os.Stderr, "start image host:", err)
		return 1
	}
	defer host.Close()
	host.Mux.Handle("/catalog/EX-VITC-060.PT02.jpg", http.NotFoundHandler())
	host.Mux.Handle("/catalog/EX-VITC-060.SWCH.jpg", imagehost.Page("Sign in"))

	pipeline := validate.New(validate.Config{AllowLoopback: true, RequestTimeout: 5 * time.Second},
		validate.WithClock(func() time.Time { return clock }),
		validate.WithProbe(func(c *probe.Config) {
			c.Resolver = host.Resolver()
			c.Dial = host.Dial
			c.RootCAs = host.RootCAs()
		}))
	defer pipeline.Close()
	s3c = stack.S3Client()
	h = &handler.Handler{
		Store:        storage.New(s3c),
		Publisher:    notify.New(stack.SNSClient(), topic),
		Pipeline:     pipeline,
		UploadBucket: bucket,
		Region:       stack.Region,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return m.Run()
}

// upload puts a corpus file under key and returns the event S3 would send.
func upload(t *testing.T, file, key string) (versionID string, handle func() error) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(corpusDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return put(t, key, body)
}

func put(t *testing.T, key string, body []byte) (string, func() error) {
	t.Helper()
	out, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%q): %v", key, err)
	}
	v := aws.ToString(out.VersionId)
	ev := devstack.S3Event(bucket, key, int64(len(body)), aws.ToString(out.ETag), v)
	return v, func() error { return h.Handle(context.Background(), ev) }
}

// storedReport reads the report object written beside key.
func storedReport(t *testing.T, key string) *report.Report {
	t.Helper()
	out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key + handler.JSONSuffix),
	})
	if err != nil {
		t.Fatalf("GetObject(report of %q): %v", key, err)
	}
	defer out.Body.Close()
	var rep report.Report
	if err := json.NewDecoder(out.Body).Decode(&rep); err != nil {
		t.Fatalf("decode report of %q: %v", key, err)
	}
	return &rep
}

// statusTag reads the verdict tag of one object version.
func statusTag(t *testing.T, key, versionID string) string {
	t.Helper()
	out, err := s3c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{
		Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(versionID),
	})
	if err != nil {
		t.Fatalf("GetObjectTagging(%q): %v", key, err)
	}
	for _, tag := range out.TagSet {
		if aws.ToString(tag.Key) == storage.StatusTag {
			return aws.ToString(tag.Value)
		}
	}
	return ""
}

// notesFor waits for n notifications about key and fails on more.
func notesFor(t *testing.T, key string, n int) []devstack.Notification {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []devstack.Notification
	for ctx.Err() == nil {
		got = got[:0]
		for _, note := range stack.Notifications() {
			if note.Attributes["key"] == key {
				got = append(got, note)
			}
		}
		if len(got) >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// goaws delivers asynchronously: give a second message time to show.
	time.Sleep(200 * time.Millisecond)
	got = got[:0]
	for _, note := range stack.Notifications() {
		if note.Attributes["key"] == key {
			got = append(got, note)
		}
	}
	if len(got) != n {
		t.Fatalf("notifications for %q = %d; want %d", key, len(got), n)
	}
	return got
}

// brief is the part of a finding the tests pin exactly.
type brief struct {
	Code       report.Code
	Severity   report.Severity
	Row        int
	Cell       string
	SKU        string
	Column     string
	URL        string
	HTTPStatus int
	ExpiresAt  string
	Scheme     any
	Expired    any
}

func briefs(fs []report.Finding) []brief {
	out := make([]brief, len(fs))
	for i, f := range fs {
		b := brief{Code: f.Code, Severity: f.Severity, Row: f.Row, Cell: f.Cell, SKU: f.SKU, Column: f.Column, URL: f.URL, HTTPStatus: f.HTTPStatus}
		if f.ExpiresAt != nil {
			b.ExpiresAt = f.ExpiresAt.UTC().Format(time.RFC3339)
		}
		if f.Code == report.CodePresignedURL {
			b.Scheme, b.Expired = f.Detail["scheme"], f.Detail["expired"]
		}
		out[i] = b
	}
	return out
}

func TestHandle_FptcustomWindows1252(t *testing.T) {
	key := "feeds/health vitamins+2019.txt"
	version, handle := upload(t, "amazon_fptcustom_health_2019.1209_header_plus_synthetic.cp1252.txt", key)
	if err := handle(); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	rep := storedReport(t, key)
	if rep.Status != report.StatusFail || rep.Format != "amazon-fptcustom" || rep.Encoding != "windows-1252" || rep.Mode != report.ModeFull {
		t.Errorf("status, format, encoding, mode = %s, %s, %s, %s; want fail, amazon-fptcustom, windows-1252, full", rep.Status, rep.Format, rep.Encoding, rep.Mode)
	}
	wantSource := report.Source{Bucket: bucket, Key: key, VersionID: version, ETag: rep.Source.ETag, Size: 15941}
	if rep.Source != wantSource || rep.Source.ETag == "" {
		t.Errorf("source = %+v; want %+v with an ETag", rep.Source, wantSource)
	}
	const (
		img   = "https://images.example.com/catalog/"
		sigv4 = "https://example-bucket.s3.eu-west-1.amazonaws.com/products/EX-VITC-120.MAIN.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20240105T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED"
		cf    = "https://d111111abcdef8.cloudfront.net/images/EX-VITC-180.PT01.jpg?Expires=1767290400&Signature=REDACTED&Key-Pair-Id=REDACTED"
		sigv2 = "https://example-bucket.s3.amazonaws.com/EX-VITC-240.jpg?AWSAccessKeyId=REDACTED&Expires=1704450900&Signature=REDACTED"
	)
	want := []brief{
		{Code: "http_status", Severity: "error", Row: 5, Cell: "AF5", SKU: "EX-VITC-060", Column: "other_image_url2", URL: img + "EX-VITC-060.PT02.jpg", HTTPStatus: 404},
		{Code: "not_image", Severity: "error", Row: 5, Cell: "AM5", SKU: "EX-VITC-060", Column: "swatch_image_url", URL: img + "EX-VITC-060.SWCH.jpg"},
		{Code: "presigned_url", Severity: "error", Row: 6, Cell: "AD6", SKU: "EX-VITC-120", Column: "main_image_url", URL: sigv4, ExpiresAt: "2024-01-05T11:15:00Z", Scheme: "aws-sigv4", Expired: true},
		{Code: "insecure_url", Severity: "warning", Row: 7, Cell: "AD7", SKU: "EX-VITC-180", Column: "main_image_url", URL: "http://images.example.com/catalog/EX-VITC-180.MAIN.jpg"},
		{Code: "presigned_url", Severity: "error", Row: 7, Cell: "AE7", SKU: "EX-VITC-180", Column: "other_image_url1", URL: cf, ExpiresAt: "2026-01-01T18:00:00Z", Scheme: "cloudfront", Expired: false},
		{Code: "invalid_url", Severity: "error", Row: 7, Cell: "AF7", SKU: "EX-VITC-180", Column: "other_image_url2", URL: img + "EX VITC 180 PT02.jpg"},
		{Code: "presigned_url", Severity: "error", Row: 8, Cell: "AD8", SKU: "EX-VITC-240", Column: "main_image_url", URL: sigv2, ExpiresAt: "2024-01-05T10:35:00Z", Scheme: "aws-sigv2", Expired: true},
	}
	if diff := cmp.Diff(want, briefs(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantSummary := report.Summary{
		Rows: 5, ImageCells: 11, UniqueURLs: 11, OKURLs: 5, FailedURLs: 6, Errors: 6, Warnings: 1,
		ByCode: map[report.Code]int{"http_status": 1, "not_image": 1, "presigned_url": 3, "insecure_url": 1, "invalid_url": 1},
	}
	if diff := cmp.Diff(wantSummary, rep.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if got := statusTag(t, key, version); got != "fail" {
		t.Errorf("tag %s = %q; want fail", storage.StatusTag, got)
	}
	page, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + handler.HTMLSuffix)})
	if err != nil {
		t.Fatalf("GetObject(HTML report): %v", err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if ct := aws.ToString(page.ContentType); ct != "text/html; charset=utf-8" {
		t.Errorf("HTML report content type = %q; want text/html; charset=utf-8", ct)
	}
	for _, s := range []string{"<!doctype html>", "EX-VITC-120", "presigned_url"} {
		if !strings.Contains(string(html), s) {
			t.Errorf("HTML report lacks %q", s)
		}
	}

	note := notesFor(t, key, 1)[0]
	if want := "[FAIL] health vitamins+2019.txt: 6 of 11 image URLs fail"; note.Subject != want {
		t.Errorf("subject = %q; want %q", note.Subject, want)
	}
	wantAttrs := map[string]string{
		"status": "fail", "bucket": bucket, "key": key, "versionId": version,
		"reportKey": key + ".report.json", "format": "amazon-fptcustom",
	}
	if diff := cmp.Diff(wantAttrs, note.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	for _, s := range []string{"FAIL: health vitamins+2019.txt: 6 of 11 image URLs fail", "ERROR presigned_url: 3", "  row 6 AD6 EX-VITC-120", "s3://" + bucket + "/" + key + ".report.json"} {
		if !strings.Contains(note.Message, s) {
			t.Errorf("message lacks %q:\n%s", s, note.Message)
		}
	}
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "3b1f6a9e0c2d4e5f", "vjbyPxybdZaNmGa", "K2JCJMDEHXQW5F", "nitfHRCrtziwO2Hw"} {
		if strings.Contains(note.Message, secret) || strings.Contains(note.Subject, secret) {
			t.Errorf("notification leaks %q", secret)
		}
	}
}

// The 2025 unified template, as Amazon's .xlsm workbook and as the
// tab-delimited export another tool made of its first rows: every image
// answers, so both pass, with a warning on each listing row that has no
// main image.
func TestHandle_UnifiedTemplate(t *testing.T) {
	const main = "main_product_image_locator[marketplace_id=ATVPDKIKX0DER]#1.media_location"
	cases := []struct {
		name, file, key string
		rows, cells     int
		missing         []int
	}{
		{"Workbook", "amazon_unified_LAB_CHEMICAL_2025.1118_anonymized.xlsm", "feeds/LAB CHEMICAL.xlsm", 36, 28, []int{11, 13, 14, 15, 16, 17, 18, 19}},
		{"TextExport", "amazon_unified_LAB_CHEMICAL_rows1-11.utf8.txt", "feeds/LAB CHEMICAL rows 1-11.txt", 5, 4, []int{11}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			version, handle := upload(t, tc.file, tc.key)
			if err := handle(); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			rep := storedReport(t, tc.key)
			if rep.Status != report.StatusPass || rep.Format != "amazon-unified" || rep.Encoding != "utf-8" {
				t.Errorf("status, format, encoding = %s, %s, %s; want pass, amazon-unified, utf-8", rep.Status, rep.Format, rep.Encoding)
			}
			var want []brief
			for _, row := range tc.missing {
				want = append(want, brief{Code: "missing_main_image", Severity: "warning", Row: row, Cell: fmt.Sprintf("IU%d", row), Column: main})
			}
			got := briefs(rep.Findings)
			for i := range got {
				got[i].SKU = "" // the file's SKU column holds titles; TestCheck_CorpusOffline pins them
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			wantSummary := report.Summary{
				Rows: tc.rows, ImageCells: tc.cells, UniqueURLs: tc.cells, OKURLs: tc.cells, Warnings: len(tc.missing),
				ByCode: map[report.Code]int{"missing_main_image": len(tc.missing)},
			}
			if diff := cmp.Diff(wantSummary, rep.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if got := statusTag(t, tc.key, version); got != "pass" {
				t.Errorf("tag = %q; want pass", got)
			}
			note := notesFor(t, tc.key, 1)[0]
			name := tc.key[strings.LastIndex(tc.key, "/")+1:]
			if want := fmt.Sprintf("[PASS] %s: %d image URLs ok", name, tc.cells); note.Subject != want {
				t.Errorf("subject = %q; want %q", note.Subject, want)
			}
			if note.Attributes["status"] != "pass" || note.Attributes["format"] != "amazon-unified" || note.Attributes["versionId"] != version {
				t.Errorf("attributes = %v; want status pass, format amazon-unified, versionId %s", note.Attributes, version)
			}
		})
	}
}
