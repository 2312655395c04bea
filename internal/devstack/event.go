package devstack

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// sequence makes each S3Event's sequencer larger than the one before.
var sequence atomic.Uint64

// S3Event builds the event S3 sends for a PUT of an object: one record,
// ObjectCreated:Put, in DefaultRegion, timestamped now. The key is encoded
// as S3 encodes it (EventKey); URLDecodedKey holds the key as given, as the
// JSON decoding in aws-lambda-go would set it. Quotes around eTag, as the
// SDK returns it, are dropped: events carry it bare. The sequencer is an
// upper-case hexadecimal number that grows with every call.
func S3Event(bucket, key string, size int64, eTag, versionID string) events.S3Event {
	now := time.Now().UTC()
	seq := uint64(now.UnixNano()) + sequence.Add(1)
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         DefaultRegion,
		EventTime:         now.Truncate(time.Millisecond),
		EventName:         "ObjectCreated:Put",
		PrincipalID:       events.S3UserIdentity{PrincipalID: "AWS:DEVSTACK"},
		RequestParameters: events.S3RequestParameters{SourceIPAddress: "127.0.0.1"},
		ResponseElements: map[string]string{
			"x-amz-request-id": fmt.Sprintf("%016X", seq),
			"x-amz-id-2":       "devstack",
		},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "devstack",
			Bucket: events.S3Bucket{
				Name:          bucket,
				OwnerIdentity: events.S3UserIdentity{PrincipalID: "DEVSTACK"},
				Arn:           "arn:aws:s3:::" + bucket,
			},
			Object: events.S3Object{
				Key:           EventKey(key),
				Size:          size,
				URLDecodedKey: key,
				VersionID:     versionID,
				ETag:          strings.Trim(eTag, `"`),
				Sequencer:     fmt.Sprintf("%018X", seq),
			},
		},
	}}}
}

// EventKey encodes an object key the way S3 writes it into event
// notifications: form encoding (space as '+', '+' as %2B, other reserved
// and non-ASCII bytes percent-encoded) applied to each segment, with the
// '/' separators left as they are.
func EventKey(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.QueryEscape(seg)
	}
	return strings.Join(segs, "/")
}
