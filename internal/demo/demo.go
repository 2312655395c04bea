// Package demo runs the validate Lambda's whole path on one machine, with
// no AWS account: a local S3 (versitygw) and SNS (goaws) from devstack, a
// local image host, the real handler, and sample files from the corpus.
// `flatguard demo` and `flatguard invoke` run it through the flatguard-dev
// program, which keeps these heavy local servers out of the flatguard CLI.
package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/imagehost"
	"github.com/flatguard/flatguard/internal/notify"
	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
	"github.com/flatguard/flatguard/internal/storage"
	"github.com/flatguard/flatguard/internal/validate"
)

// demoFiles are two real-shaped Amazon templates from the corpus: a 2025
// unified template export whose images are all fine, and an old fptcustom
// template (Windows-1252) with pre-signed, plain-http, broken and
// login-walled image links.
//
//go:embed demodata
var demoFiles embed.FS

// demoHosts are the image hosts named in the demo files; the local image
// host answers for all of them.
var demoHosts = []string{
	"images.example.com",
	"example-bucket.s3.eu-west-1.amazonaws.com",
	"example-bucket.s3.amazonaws.com",
	"d111111abcdef8.cloudfront.net",
}

const (
	demoBucket = "flatguard-demo-uploads"
	demoTopic  = "flatguard-verdicts"
)

// demoUploads maps each embedded file to the key it is dropped under.
var demoUploads = []struct{ file, key string }{
	{"demodata/lab-chemical-unified.txt", "feeds/LAB CHEMICAL 2025.txt"},
	{"demodata/health-fptcustom.txt", "feeds/health+vitamins 2019.txt"},
}

// Run drops a passing and a failing file into a local upload bucket, runs
// the real handler on their S3 events, and prints both reports and the
// notifications the SNS subscriber received.
// The HTML reports are copied from the bucket into htmlDir, so that they
// can be opened in a browser after the demo ends; "" skips the copies.
func Run(ctx context.Context, out io.Writer, htmlDir string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fmt.Fprintln(out, "flatguard demo: the validate Lambda's path, all on 127.0.0.1")

	// 1. Local AWS: S3 (versitygw) and SNS (goaws) with an HTTP subscriber.
	stack, err := devstack.Start(ctx, devstack.Options{})
	if err != nil {
		return err
	}
	defer stack.Close()
	if err := stack.CreateBucket(ctx, demoBucket); err != nil {
		return err
	}
	topic, err := stack.CreateTopic(ctx, demoTopic)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  S3  %s  bucket %s (versioned)\n  SNS %s  topic %s\n", stack.S3Endpoint, demoBucket, stack.SNSEndpoint, topic)

	// 2. A local image host answering for the files' own image hosts.
	host, err := imagehost.Start(demoHosts...)
	if err != nil {
		return err
	}
	defer host.Close()
	host.Mux.Handle("/catalog/EX-VITC-060.PT02.jpg", http.NotFoundHandler())
	host.Mux.Handle("/catalog/EX-VITC-060.SWCH.jpg", imagehost.Page("Sign in"))
	fmt.Fprintf(out, "  image host %s (https) %s (http) for %s\n\n", host.HTTPSAddr(), host.HTTPAddr(), strings.Join(demoHosts, ", "))

	// 3. The real handler, wired as functions/validate wires it.
	pipeline := validate.New(validate.Config{AllowLoopback: true, RequestTimeout: 5 * time.Second},
		validate.WithProbe(func(c *probe.Config) {
			c.Resolver = host.Resolver()
			c.Dial = host.Dial
			c.RootCAs = host.RootCAs()
		}))
	defer pipeline.Close()
	s3c := stack.S3Client()
	h := &handler.Handler{
		Store:        storage.New(s3c),
		Publisher:    notify.New(stack.SNSClient(), topic),
		Pipeline:     pipeline,
		UploadBucket: demoBucket,
		Region:       stack.Region,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}

	// 4. Drop each file into the bucket and hand its S3 event to the handler.
	for _, u := range demoUploads {
		body, err := demoFiles.ReadFile(u.file)
		if err != nil {
			return err
		}
		put, err := s3c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(demoBucket), Key: aws.String(u.key), Body: bytes.NewReader(body),
		})
		if err != nil {
			return fmt.Errorf("upload %s: %w", u.key, err)
		}
		ev := devstack.S3Event(demoBucket, u.key, int64(len(body)), aws.ToString(put.ETag), aws.ToString(put.VersionId))
		if err := h.Handle(ctx, ev); err != nil {
			return fmt.Errorf("handle %s: %w", u.key, err)
		}
		if err := printReport(ctx, out, s3c, u.key); err != nil {
			return err
		}
		if htmlDir != "" {
			if err := saveHTML(ctx, out, s3c, u.key, htmlDir); err != nil {
				return err
			}
		}
	}

	// 5. What the SNS subscriber received.
	notes, err := stack.WaitNotifications(ctx, len(demoUploads))
	if err != nil {
		return fmt.Errorf("wait for notifications: %w", err)
	}
	for i, n := range notes {
		fmt.Fprintf(out, "=== notification %d: %s\n", i+1, n.Subject)
		keys := make([]string, 0, len(n.Attributes))
		for k := range n.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "  attribute %s = %s\n", k, n.Attributes[k])
		}
		fmt.Fprintf(out, "\n%s\n", indent(n.Message))
	}
	return nil
}

// printReport shows the report object written beside key and the tag.
func printReport(ctx context.Context, out io.Writer, s3c *s3.Client, key string) error {
	rk := key + handler.JSONSuffix
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(demoBucket), Key: aws.String(rk)})
	if err != nil {
		return fmt.Errorf("read report %s: %w", rk, err)
	}
	defer obj.Body.Close()
	tags, err := s3c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(demoBucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("read tags of %s: %w", key, err)
	}
	status := "(none)"
	for _, t := range tags.TagSet {
		if aws.ToString(t.Key) == storage.StatusTag {
			status = aws.ToString(t.Value)
		}
	}
	var rep report.Report
	if err := json.NewDecoder(obj.Body).Decode(&rep); err != nil {
		return fmt.Errorf("decode report %s: %v", rk, err)
	}
	fmt.Fprintf(out, "=== s3://%s/%s  tag %s=%s\n", demoBucket, rk, storage.StatusTag, status)
	if err := report.WriteText(out, &rep); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return nil
}

// saveHTML copies the HTML report of key from the bucket into dir.
func saveHTML(ctx context.Context, out io.Writer, s3c *s3.Client, key, dir string) error {
	rk := key + handler.HTMLSuffix
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(demoBucket), Key: aws.String(rk)})
	if err != nil {
		return fmt.Errorf("read report %s: %w", rk, err)
	}
	defer obj.Body.Close()
	page, err := io.ReadAll(obj.Body)
	if err != nil {
		return fmt.Errorf("read report %s: %v", rk, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.Base(rk))
	if err := os.WriteFile(path, page, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "  HTML report: %s (open it in a browser; its thumbnails point at the demo's image host, gone once the demo ends)\n\n", path)
	return nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
