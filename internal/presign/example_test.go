package presign_test

import (
	"fmt"
	"time"

	"github.com/flatguard/flatguard/internal/presign"
)

func ExampleDetect() {
	u := "https://example-bucket.s3.amazonaws.com/offers/EX-USED-0002.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240105%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240105T101500Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd"
	s, ok := presign.Detect(u)
	fmt.Println(ok, s.Scheme, s.ExpiresAt.Format(time.RFC3339))
	fmt.Println(s.Expired(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)))
	// Output:
	// true aws-sigv4 2024-01-12T10:15:00Z
	// true
}

func ExampleRedact() {
	fmt.Println(presign.Redact("https://user:pw@b.s3.amazonaws.com/k.jpg?X-Amz-Date=20240105T101500Z&X-Amz-Signature=0123abcd"))
	fmt.Println(presign.Redact("https://img.example.com/r?src=https%3A%2F%2Fb%2Fk.jpg%3Fsig%3Dabc%26sv%3D1"))
	// Output:
	// https://REDACTED@b.s3.amazonaws.com/k.jpg?X-Amz-Date=20240105T101500Z&X-Amz-Signature=REDACTED
	// https://img.example.com/r?src=https%3A%2F%2Fb%2Fk.jpg%3Fsig%3DREDACTED%26sv%3D1
}

func ExampleShare() {
	fmt.Println(presign.Share("https://www.dropbox.com/scl/fi/abc123/shoe.jpg?rlkey=k&dl=0"))
	fmt.Println(presign.Share("https://www.dropbox.com/scl/fi/abc123/shoe.jpg?rlkey=k&dl=1"))
	// Output:
	// dropbox true
	//  false
}

func ExampleRedactText() {
	fmt.Println(presign.RedactText(`Get "https://b.s3.amazonaws.com/k.jpg?X-Amz-Signature=0123abcd": dial tcp 192.0.2.1:443: i/o timeout`))
	// Output:
	// Get "https://b.s3.amazonaws.com/k.jpg?X-Amz-Signature=REDACTED": dial tcp 192.0.2.1:443: i/o timeout
}
