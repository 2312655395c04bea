package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/imagehost"
	"github.com/flatguard/flatguard/internal/report"
)

// TestBootstrap_UnderRuntimeEmulator builds this function as Lambda builds
// it, runs it under the AWS Lambda runtime interface emulator against the
// local S3 and SNS, and checks the whole path: report object, tag and
// notification. The bootstrap is a separate process, so nothing can be
// injected: its image URLs point at the local image host by address, and
// SSL_CERT_FILE makes it trust the host's private CA.
func TestBootstrap_UnderRuntimeEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	const bucket = "uploads"
	if err := stack.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	topic, err := stack.CreateTopic(ctx, "verdicts")
	if err != nil {
		t.Fatal(err)
	}
	host, err := imagehost.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, host.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}

	// The corpus file with its image hosts moved to the local image host.
	raw, err := os.ReadFile("../../testdata/corpus/amazon_fptcustom_health_2019.1209_header_plus_synthetic.cp1252.txt")
	if err != nil {
		t.Fatal(err)
	}
	secure, plain := "https://"+host.HTTPSAddr()+"/", "http://"+host.HTTPAddr()+"/"
	body := strings.NewReplacer(
		"https://images.example.com/", secure,
		"http://images.example.com/", plain,
		"https://example-bucket.s3.eu-west-1.amazonaws.com/", secure,
		"https://example-bucket.s3.amazonaws.com/", secure,
		"https://d111111abcdef8.cloudfront.net/", secure,
	).Replace(string(raw))
	key := "feeds/health vitamins+2019.txt"
	s3c := stack.S3Client()
	put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	version := aws.ToString(put.VersionId)

	bootstrap, err := devstack.BuildBootstrap(ctx, ".", dir)
	if err != nil {
		t.Fatal(err)
	}
	env := append(stack.Env(),
		"TOPIC_ARN="+topic,
		"UPLOAD_BUCKET="+bucket,
		"ALLOW_LOOPBACK=true",
		"REQUEST_TIMEOUT=5s",
		"SSL_CERT_FILE="+caFile,
		// What the template's LoggingConfig {LogFormat: JSON} makes Lambda set.
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	)
	rie, err := devstack.StartRIE(ctx, bootstrap, env)
	if err != nil {
		t.Fatal(err)
	}
	defer rie.Close()

	event, err := json.Marshal(devstack.S3Event(bucket, key, int64(len(body)), aws.ToString(put.ETag), version))
	if err != nil {
		t.Fatal(err)
	}
	out, err := rie.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("Invoke: %v\nlogs:\n%s", err, rie.Logs())
	}
	if string(bytes.TrimSpace(out)) != "null" {
		t.Fatalf("Invoke = %s; want null (success)\nlogs:\n%s", out, rie.Logs())
	}

	// The report object beside the upload.
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + ".report.json")})
	if err != nil {
		t.Fatalf("GetObject(report): %v\nlogs:\n%s", err, rie.Logs())
	}
	defer obj.Body.Close()
	var rep report.Report
	if err := json.NewDecoder(obj.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	type spot struct {
		Code              report.Code
		Row               int
		Cell, Column, SKU string
		URL               string
	}
	var got []spot
	for _, f := range rep.Findings {
		got = append(got, spot{f.Code, f.Row, f.Cell, f.Column, f.SKU, f.URL})
	}
	// Real time here: every pre-signed link of the file has expired.
	want := []spot{
		{"presigned_url", 6, "AD6", "main_image_url", "EX-VITC-120", secure + "products/EX-VITC-120.MAIN.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20240105T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED"},
		{"insecure_url", 7, "AD7", "main_image_url", "EX-VITC-180", plain + "catalog/EX-VITC-180.MAIN.jpg"},
		{"presigned_url", 7, "AE7", "other_image_url1", "EX-VITC-180", secure + "images/EX-VITC-180.PT01.jpg?Expires=1767290400&Signature=REDACTED&Key-Pair-Id=REDACTED"},
		{"invalid_url", 7, "AF7", "other_image_url2", "EX-VITC-180", secure + "catalog/EX VITC 180 PT02.jpg"},
		{"presigned_url", 8, "AD8", "main_image_url", "EX-VITC-240", secure + "EX-VITC-240.jpg?AWSAccessKeyId=REDACTED&Expires=1704450900&Signature=REDACTED"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if rep.Status != report.StatusFail || rep.Summary.OKURLs != 7 || rep.Summary.FailedURLs != 4 || rep.Summary.UniqueURLs != 11 {
		t.Errorf("status %s, ok %d, failed %d, unique %d; want fail, 7, 4, 11", rep.Status, rep.Summary.OKURLs, rep.Summary.FailedURLs, rep.Summary.UniqueURLs)
	}

	// The tag on the version and the one notification.
	tags, err := s3c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "flatguard-status" || aws.ToString(tags.TagSet[0].Value) != "fail" {
		t.Errorf("tags = %+v; want flatguard-status=fail", tags.TagSet)
	}
	notes, err := stack.WaitNotifications(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if notes[0].Attributes["status"] != "fail" || notes[0].Attributes["key"] != key || notes[0].Attributes["versionId"] != version {
		t.Errorf("notification attributes = %v; want status fail, key %q, version %q", notes[0].Attributes, key, version)
	}
	for _, s := range []string{`"level":"INFO","message":"object checked"`, `"requestId":"`, `"failedUrls":4`} {
		if !strings.Contains(rie.Logs(), s) {
			t.Errorf("function logs lack %s:\n%s", s, rie.Logs())
		}
	}
}
