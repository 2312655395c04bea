package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/imagehost"
)

// Invoke builds the Lambda bootstrap for this machine, runs it under the AWS
// Lambda runtime interface emulator against a local S3 that holds the
// event's object (the demo's unified template, its images on a local image
// host) and a local SNS, invokes it with the S3 event in eventFile, and
// prints the report and the notification. It must run inside the flatguard
// source tree, since it builds ./functions/validate.
func Invoke(ctx context.Context, eventFile string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	raw, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	var ev events.S3Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("%s: %v", eventFile, err)
	}
	if len(ev.Records) == 0 {
		return fmt.Errorf("%s: no records", eventFile)
	}
	rec := &ev.Records[0]
	bucket, key := rec.S3.Bucket.Name, rec.S3.Object.URLDecodedKey

	stack, err := devstack.Start(ctx, devstack.Options{})
	if err != nil {
		return err
	}
	defer stack.Close()
	if err := stack.CreateBucket(ctx, bucket); err != nil {
		return err
	}
	topic, err := stack.CreateTopic(ctx, demoTopic)
	if err != nil {
		return err
	}
	host, err := imagehost.Start()
	if err != nil {
		return err
	}
	defer host.Close()
	dir, err := os.MkdirTemp("", "flatguard-invoke-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, host.CAPEM(), 0o600); err != nil {
		return err
	}

	// The event's object: the demo's unified template, images on the host;
	// for a folder placeholder an empty object, and for flatguard's own
	// report an object the function must leave alone.
	sample, err := demoFiles.ReadFile(demoUploads[0].file)
	if err != nil {
		return err
	}
	body := strings.ReplaceAll(string(sample), "https://images.example.com/", "https://"+host.HTTPSAddr()+"/")
	if strings.HasSuffix(key, "/") {
		body = ""
	}
	ignored := handler.Ignores(key, int64(len(body)))
	s3c := stack.S3Client()
	put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	// The event names a version of its own; point it at the one just made.
	rec.S3.Object.VersionID = aws.ToString(put.VersionId)
	rec.S3.Object.ETag = strings.Trim(aws.ToString(put.ETag), `"`)
	rec.S3.Object.Size = int64(len(body))
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "building the bootstrap and starting the runtime emulator...\n")
	bootstrap, err := devstack.BuildBootstrap(ctx, "./functions/validate", dir)
	if err != nil {
		return err
	}
	env := append(stack.Env(), "TOPIC_ARN="+topic, "UPLOAD_BUCKET="+bucket, "ALLOW_LOOPBACK=true", "SSL_CERT_FILE="+caFile)
	rie, err := devstack.StartRIE(ctx, bootstrap, env)
	if err != nil {
		return err
	}
	defer rie.Close()
	result, err := rie.Invoke(ctx, payload)
	if err != nil {
		return fmt.Errorf("invoke: %v\n%s", err, rie.Logs())
	}
	fmt.Fprintf(out, "invocation result: %s\n\nfunction log:\n%s\n", bytes.TrimSpace(result), rie.Logs())
	if ignored {
		if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + handler.JSONSuffix)}); err == nil {
			return fmt.Errorf("the function wrote a report for %s, which it must ignore", key)
		}
		fmt.Fprintf(out, "=== %s is flatguard's own report or a folder placeholder: no report, no notification (%d received)\n", key, len(stack.Notifications()))
		return nil
	}

	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + handler.JSONSuffix)})
	if err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	defer obj.Body.Close()
	fmt.Fprintf(out, "=== s3://%s/%s%s\n", bucket, key, handler.JSONSuffix)
	if _, err := io.Copy(out, obj.Body); err != nil {
		return err
	}
	notes, err := stack.WaitNotifications(ctx, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n=== notification: %s\n  attributes: %v\n\n%s\n", notes[0].Subject, notes[0].Attributes, indent(notes[0].Message))
	return nil
}
