package devstack

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"
)

func TestStart_SecondStackRefused(t *testing.T) {
	s, err := Start(testContext(t), Options{})
	if !errors.Is(err, ErrRunning) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Start while a stack runs: err = %v; want ErrRunning", err)
	}
}

func TestStart_KeepsWorkingDirectory(t *testing.T) {
	got, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got != startDir {
		t.Errorf("working directory after Start = %q; want %q", got, startDir)
	}
}

func TestStack_Endpoints(t *testing.T) {
	for name, got := range map[string]string{"S3Endpoint": stack.S3Endpoint, "SNSEndpoint": stack.SNSEndpoint} {
		if !strings.HasPrefix(got, "http://127.0.0.1:") {
			t.Errorf("%s = %q; want http://127.0.0.1:PORT", name, got)
		}
	}
	if stack.Region != DefaultRegion {
		t.Errorf("Region = %q; want %q", stack.Region, DefaultRegion)
	}
}

// putObject uploads body under key and returns the version ID S3 gave it.
func putObject(t *testing.T, client *s3.Client, bucket, key, body string) string {
	t.Helper()
	out, err := client.PutObject(testContext(t), &s3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Body:   strings.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%s/%s): %v\nlogs:\n%s", bucket, key, err, stack.Logs())
	}
	return aws.ToString(out.VersionId)
}

// getObject returns the body of key, at versionID when it is not empty.
func getObject(t *testing.T, client *s3.Client, bucket, key, versionID string) string {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := client.GetObject(testContext(t), in)
	if err != nil {
		t.Fatalf("GetObject(%s/%s, version %q): %v", bucket, key, versionID, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject(%s/%s) read body: %v", bucket, key, err)
	}
	return string(b)
}

// tagsOf returns the tags of a version of key as a map.
func tagsOf(t *testing.T, client *s3.Client, bucket, key, versionID string) map[string]string {
	t.Helper()
	out, err := client.GetObjectTagging(testContext(t), &s3.GetObjectTaggingInput{
		Bucket:    aws.String(bucket),
		Key:       aws.String(key),
		VersionId: aws.String(versionID),
	})
	if err != nil {
		t.Fatalf("GetObjectTagging(%s/%s, version %q): %v", bucket, key, versionID, err)
	}
	tags := map[string]string{}
	for _, tag := range out.TagSet {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return tags
}

// setTags replaces the tags of a version of key.
func setTags(t *testing.T, client *s3.Client, bucket, key, versionID string, tags map[string]string) {
	t.Helper()
	var set []types.Tag
	for k, v := range tags {
		set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := client.PutObjectTagging(testContext(t), &s3.PutObjectTaggingInput{
		Bucket:    aws.String(bucket),
		Key:       aws.String(key),
		VersionId: aws.String(versionID),
		Tagging:   &types.Tagging{TagSet: set},
	})
	if err != nil {
		t.Fatalf("PutObjectTagging(%s/%s, version %q): %v", bucket, key, versionID, err)
	}
}

func TestStack_VersioningAndTagging(t *testing.T) {
	const bucket, key = "versioned", "feeds/listing.txt"
	ctx := testContext(t)
	client := stack.S3Client()
	if err := stack.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}

	v1 := putObject(t, client, bucket, key, "first upload")
	v2 := putObject(t, client, bucket, key, "second upload")
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("version IDs of two uploads = %q, %q; want two distinct non-empty IDs", v1, v2)
	}

	// Tag the second version twice, the second time merging into what
	// GetObjectTagging returns, as the handler does.
	setTags(t, client, bucket, key, v2, map[string]string{"owner": "catalog-team"})
	tags := tagsOf(t, client, bucket, key, v2)
	tags["flatguard-status"] = "fail"
	setTags(t, client, bucket, key, v2, tags)

	want := map[string]string{"owner": "catalog-team", "flatguard-status": "fail"}
	if got := tagsOf(t, client, bucket, key, v2); !cmp.Equal(got, want) {
		t.Errorf("tags of version 2 = %v; want %v", got, want)
	}
	if got := tagsOf(t, client, bucket, key, v1); len(got) != 0 {
		t.Errorf("tags of version 1 = %v; want none", got)
	}

	// Tagging must leave the bodies alone.
	for _, tc := range []struct{ version, want string }{{v1, "first upload"}, {v2, "second upload"}, {"", "second upload"}} {
		if got := getObject(t, client, bucket, key, tc.version); got != tc.want {
			t.Errorf("GetObject(%s, version %q) = %q; want %q", key, tc.version, got, tc.want)
		}
	}

	ver, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if ver.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("GetBucketVersioning(%s).Status = %q; want Enabled", bucket, ver.Status)
	}
}

func TestStack_KeyRoundTrip(t *testing.T) {
	const bucket = "keys"
	client := stack.S3Client()
	if err := stack.CreateBucket(testContext(t), bucket); err != nil {
		t.Fatal(err)
	}

	keys := []string{
		"feeds/my file+v2.txt",
		"feeds/ünïcødé 商品.csv",
		"feeds/(1) copy & paste=50%.tsv",
		"a+b/c d/e~f.txt",
	}
	for i, key := range keys {
		body := "body " + key
		putObject(t, client, bucket, key, body)
		if got := getObject(t, client, bucket, key, ""); got != body {
			t.Errorf("key %d: GetObject(%q) = %q; want %q", i, key, got, body)
		}
	}

	out, err := client.ListObjectsV2(testContext(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out.Contents {
		got = append(got, aws.ToString(o.Key))
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListObjectsV2(%s) keys (-want +got):\n%s", bucket, diff)
	}
}

func TestStack_Env(t *testing.T) {
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := testContext(t)

	// Build clients the way a Lambda main does: from the environment only.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("LoadDefaultConfig with Env(): %v", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv(PathStyleEnv) == "true"
	})

	const bucket, key = "from-env", "feeds/env check.txt"
	if err := stack.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	putObject(t, client, bucket, key, "via env")
	if got := getObject(t, stack.S3Client(), bucket, key, ""); got != "via env" {
		t.Errorf("object written with Env() config = %q; want %q", got, "via env")
	}

	arn, err := stack.CreateTopic(ctx, "env-topic")
	if err != nil {
		t.Fatal(err)
	}
	topics, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil {
		t.Fatalf("ListTopics with Env() config: %v", err)
	}
	if !slices.ContainsFunc(topics.Topics, func(tp snstypes.Topic) bool { return aws.ToString(tp.TopicArn) == arn }) {
		t.Errorf("ListTopics with Env() config lacks %s", arn)
	}
}

func TestStack_PutObjectSeekableBody(t *testing.T) {
	const bucket, key = "bodies", "feeds/bytes.bin"
	client := stack.S3Client()
	if err := stack.CreateBucket(testContext(t), bucket); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("flatguard "), 100_000) // 1 MB
	_, err := client.PutObject(testContext(t), &s3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Body:   bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%s, 1 MB): %v", key, err)
	}
	if got := getObject(t, client, bucket, key, ""); got != string(body) {
		t.Errorf("GetObject(%s) returned %d bytes; want the %d bytes uploaded", key, len(got), len(body))
	}
}
