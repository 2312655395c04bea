package devstack

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestS3Event(t *testing.T) {
	tests := []struct {
		name, key, wantKey string
	}{
		{"SpaceAndPlus", "feeds/my file+v2.txt", "feeds/my+file%2Bv2.txt"},
		{"Latin", "feeds/ünï.csv", "feeds/%C3%BCn%C3%AF.csv"},
		{"CJK", "feeds/商品 一覧.tsv", "feeds/%E5%95%86%E5%93%81+%E4%B8%80%E8%A6%A7.tsv"},
		{"Equals", "dt=2026-12-04/_SUCCESS", "dt%3D2026-12-04/_SUCCESS"},
		{"Colons", "test/10:47:07.log", "test/10%3A47%3A07.log"},
		{"Punctuation", "(1) copy & paste.txt", "%281%29+copy+%26+paste.txt"},
		{"Percent", "100%.csv", "100%25.csv"},
		{"Plain", "plain-name_1.v2.txt", "plain-name_1.v2.txt"},
		{"FolderPlaceholder", "dir/", "dir/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := S3Event("uploads", tc.key, 42, `"0123abcd"`, "v-1")
			if len(ev.Records) != 1 {
				t.Fatalf("S3Event(%q) has %d records; want 1", tc.key, len(ev.Records))
			}
			rec := ev.Records[0]
			if got := rec.S3.Object.Key; got != tc.wantKey {
				t.Errorf("S3Event(%q) key = %q; want %q", tc.key, got, tc.wantKey)
			}

			// Decode as the Lambda runtime does and get the key back.
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var back events.S3Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal S3Event(%q): %v", tc.key, err)
			}
			obj := back.Records[0].S3.Object
			if obj.URLDecodedKey != tc.key {
				t.Errorf("decoded key of S3Event(%q) = %q; want the key back", tc.key, obj.URLDecodedKey)
			}
			if obj.Size != 42 || obj.ETag != "0123abcd" || obj.VersionID != "v-1" || obj.Sequencer == "" {
				t.Errorf("S3Event(%q) object = %+v; want size 42, eTag 0123abcd, versionId v-1, a sequencer", tc.key, obj)
			}
			if got := back.Records[0]; got.EventName != "ObjectCreated:Put" || got.EventSource != "aws:s3" || got.S3.Bucket.Name != "uploads" || got.S3.Bucket.Arn != "arn:aws:s3:::uploads" {
				t.Errorf("S3Event record = %+v; want ObjectCreated:Put from aws:s3 on bucket uploads", got)
			}
		})
	}
}

func TestS3Event_SequencerGrows(t *testing.T) {
	a := S3Event("b", "k", 1, "e", "v").Records[0].S3.Object.Sequencer
	b := S3Event("b", "k", 1, "e", "v").Records[0].S3.Object.Sequencer
	if len(a) != len(b) || b <= a {
		t.Errorf("sequencers of two events = %q, %q; want the second larger, same length", a, b)
	}
}
