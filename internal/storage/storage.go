// Package storage reads the dropped flat file from S3 and writes what
// flatguard says about it beside the file: the report objects and the
// verdict tag on the object version.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// StatusTag is the tag key holding the verdict on the source object version.
const StatusTag = "flatguard-status"

// MaxTags is S3's limit of tags on one object.
const MaxTags = 10

// Metadata keys on the report object, used to make retries idempotent.
const (
	// MetaSourceVersion names the source object version the report is about
	// (its version ID, or its ETag in an unversioned bucket).
	MetaSourceVersion = "flatguard-source-version"
	// MetaNotified holds the SNS message ID once the verdict was published.
	MetaNotified = "flatguard-notified"
	// MetaSequencer holds the S3 event sequencer of the source version, which
	// orders the versions of one key.
	MetaSequencer = "flatguard-sequencer"
)

// ErrNotFound means the object (or the version) no longer exists.
var ErrNotFound = errors.New("storage: object not found")

// s3API is the part of the S3 client this package calls.
type s3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, opts ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

var _ s3API = (*s3.Client)(nil)

// Store wraps an S3 client.
type Store struct {
	client s3API
}

// New returns a Store using client.
func New(client *s3.Client) *Store { return &Store{client: client} }

// Object is an opened source object. Close its Body.
type Object struct {
	Bucket, Key, VersionID, ETag string
	Size                         int64
	Body                         io.ReadCloser
}

// Open streams one object version (the latest when versionID is empty). It
// returns ErrNotFound when the object or version is gone.
func (s *Store) Open(ctx context.Context, bucket, key, versionID string) (*Object, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:    aws.String(bucket),
		Key:       aws.String(key),
		VersionId: optional(versionID),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get object s3://%s/%s: %w", bucket, key, err)
	}
	return &Object{
		Bucket:    bucket,
		Key:       key,
		VersionID: aws.ToString(out.VersionId),
		ETag:      aws.ToString(out.ETag),
		Size:      aws.ToInt64(out.ContentLength),
		Body:      out.Body,
	}, nil
}

// ReportState is what an existing report object says about earlier runs.
type ReportState struct {
	// Exists is true when a report object is there.
	Exists bool
	// SourceVersion is the source version the report is about.
	SourceVersion string
	// Notified is the SNS message ID of the published verdict, "" if none.
	Notified string
	// Sequencer is the S3 event sequencer of the source version, "" if the
	// event carried none.
	Sequencer string
}

// Older reports whether S3 event sequencer a comes before b. Sequencers of
// one key are hexadecimal strings; the shorter is padded with leading
// zeros before comparing. An empty sequencer is never older.
func Older(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := max(len(a), len(b)); len(a) < n {
		a = strings.Repeat("0", n-len(a)) + a
	} else if len(b) < n {
		b = strings.Repeat("0", n-len(b)) + b
	}
	return a < b
}

// ReportState reads the metadata of the report object at key.
func (s *Store) ReportState(ctx context.Context, bucket, key string) (ReportState, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return ReportState{}, nil
		}
		return ReportState{}, fmt.Errorf("head object s3://%s/%s: %w", bucket, key, err)
	}
	return ReportState{
		Exists:        true,
		SourceVersion: out.Metadata[MetaSourceVersion],
		Notified:      out.Metadata[MetaNotified],
		Sequencer:     out.Metadata[MetaSequencer],
	}, nil
}

// ReadReport returns the body of the report object at key.
func (s *Store) ReadReport(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get object s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read object s3://%s/%s: %v", bucket, key, err)
	}
	return b, nil
}

// PutReport writes a report object with the idempotency metadata.
func (s *Store) PutReport(ctx context.Context, bucket, key, contentType string, body []byte, state ReportState) error {
	meta := map[string]string{MetaSourceVersion: state.SourceVersion}
	if state.Sequencer != "" {
		meta[MetaSequencer] = state.Sequencer
	}
	if state.Notified != "" {
		meta[MetaNotified] = state.Notified
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
		Metadata:    meta,
	})
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Tag sets the verdict tag on one object version, keeping its other tags.
// When the version already holds MaxTags other tags it changes nothing and
// returns skipped true.
func (s *Store) Tag(ctx context.Context, bucket, key, versionID, status string) (skipped bool, err error) {
	out, err := s.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{
		Bucket: aws.String(bucket), Key: aws.String(key), VersionId: optional(versionID),
	})
	if err != nil {
		return false, fmt.Errorf("get tags s3://%s/%s: %w", bucket, key, err)
	}
	tags := make([]types.Tag, 0, len(out.TagSet)+1)
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) != StatusTag {
			tags = append(tags, t)
		}
	}
	if len(tags) >= MaxTags {
		return true, nil
	}
	tags = append(tags, types.Tag{Key: aws.String(StatusTag), Value: aws.String(status)})
	_, err = s.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket:    aws.String(bucket),
		Key:       aws.String(key),
		VersionId: optional(versionID),
		Tagging:   &types.Tagging{TagSet: tags},
	})
	if err != nil {
		return false, fmt.Errorf("put tags s3://%s/%s: %w", bucket, key, err)
	}
	return false, nil
}

// isNotFound tells a missing object or version from other failures.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchVersion":
			return true
		}
	}
	return false
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
