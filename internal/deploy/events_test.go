package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestEvents_S3 checks that the sample events in events/ have the shape S3
// sends (no field aws-lambda-go does not know) and that their keys decode
// as the handler will see them.
func TestEvents_S3(t *testing.T) {
	tests := []struct {
		file       string
		wantKey    string
		wantDecode string
		wantSize   int64
	}{
		{"s3-put.json", "feeds/LAB+CHEMICAL%2Bv2.txt", "feeds/LAB CHEMICAL+v2.txt", 48213},
		{"s3-put-report.json", "feeds/LAB+CHEMICAL%2Bv2.txt.report.json", "feeds/LAB CHEMICAL+v2.txt.report.json", 5120},
		{"s3-put-folder.json", "feeds/", "feeds/", 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			src, err := os.ReadFile("../../events/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(src))
			dec.DisallowUnknownFields()
			var e events.S3Event
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("decode %s: %v", tc.file, err)
			}

			if len(e.Records) != 1 {
				t.Fatalf("%s: %d records; want 1", tc.file, len(e.Records))
			}
			r := e.Records[0]
			if r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" {
				t.Errorf("%s: source, name = %q, %q; want aws:s3, ObjectCreated:Put", tc.file, r.EventSource, r.EventName)
			}
			if got := r.S3.Bucket.Name; got != "flatguard-uploads" {
				t.Errorf("%s: bucket = %q; want flatguard-uploads", tc.file, got)
			}
			o := r.S3.Object
			if o.Key != tc.wantKey {
				t.Errorf("%s: key = %q; want %q", tc.file, o.Key, tc.wantKey)
			}
			if o.URLDecodedKey != tc.wantDecode {
				t.Errorf("%s: URLDecodedKey = %q; want %q", tc.file, o.URLDecodedKey, tc.wantDecode)
			}
			if o.Size != tc.wantSize {
				t.Errorf("%s: size = %d; want %d", tc.file, o.Size, tc.wantSize)
			}
			if o.VersionID == "" || o.ETag == "" || o.Sequencer == "" {
				t.Errorf("%s: versionId, eTag, sequencer = %q, %q, %q; want all set", tc.file, o.VersionID, o.ETag, o.Sequencer)
			}
		})
	}
}
