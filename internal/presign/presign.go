package presign

import (
	"strings"
	"time"
)

// Scheme values, as CONTRACT.md's detail.scheme.
const (
	SchemeSigV4      = "aws-sigv4"
	SchemeSigV2      = "aws-sigv2"
	SchemeCloudFront = "cloudfront"
	SchemeGCS        = "gcs"
	SchemeAzureSAS   = "azure-sas"
)

// Signed describes a temporary signature found in a URL.
type Signed struct {
	// Scheme is one of the Scheme constants.
	Scheme string
	// ExpiresAt is the moment the signature stops working, in UTC. It is
	// zero when it cannot be computed (a missing or unreadable date).
	ExpiresAt time.Time
	// SessionBound is true when the link carries a session token
	// (X-Amz-Security-Token), so it dies with the session, often sooner.
	SessionBound bool
}

// Expired reports whether the signature no longer works at now: now is at
// or after ExpiresAt. It is false when ExpiresAt is zero.
func (s Signed) Expired(now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
}

// Detect reports whether rawURL carries a temporary signature. Parameter
// names match case-insensitively. Only the URL's own query counts: a signed
// URL nested as the value of a parameter does not make the outer URL signed.
//
// A URL whose parameters fit several schemes is named by the first match in
// this order: SigV4 (X-Amz-Signature or X-Amz-Credential, or an AWS4-*
// X-Amz-Algorithm with X-Amz-Date or X-Amz-Expires), GCS V4 (the same with
// X-Goog-*), CloudFront (Key-Pair-Id and Signature), GCS V2 (GoogleAccessId
// and Signature), SigV2 (AWSAccessKeyId and Signature), Azure SAS (sig with
// se or sv). A SigV4 signature on storage.googleapis.com (GCS's XML API
// interoperability) is named SchemeGCS.
func Detect(rawURL string) (Signed, bool) {
	q := strings.IndexByte(rawURL, '?')
	if q < 0 || strings.IndexByte(rawURL[:q], '#') >= 0 {
		return Signed{}, false
	}
	query := rawURL[q+1:]
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query = query[:h]
	}

	var p params
	p.parse(query)
	if p.has == 0 {
		return Signed{}, false
	}
	return p.classify(rawURL[:q])
}

// classify names the scheme of the collected parameters; prefix is the part
// of the URL before the query, used for the host.
func (p *params) classify(prefix string) (Signed, bool) {
	s := Signed{SessionBound: p.has&bit(pAmzToken) != 0 && p.v[pAmzToken] != ""}
	switch {
	case p.signedV4(pAmzSignature, pAmzCredential, pAmzAlgorithm, pAmzDate, pAmzExpires, "aws4-"):
		s.Scheme = SchemeSigV4
		if isGCSHost(hostOf(prefix)) {
			s.Scheme = SchemeGCS
		}
		s.ExpiresAt = dateplus(p.v[pAmzDate], p.v[pAmzExpires])
	case p.signedV4(pGoogSignature, pGoogCredential, pGoogAlgorithm, pGoogDate, pGoogExpires, "goog4-"):
		s.Scheme = SchemeGCS
		s.ExpiresAt = dateplus(p.v[pGoogDate], p.v[pGoogExpires])
	case p.all(pKeyPairID, pSignature):
		s.Scheme = SchemeCloudFront
		if p.has&bit(pExpires) != 0 {
			s.ExpiresAt = epoch(p.v[pExpires])
		} else {
			s.ExpiresAt = policyExpiry(p.v[pPolicy])
		}
	case p.all(pGoogleAccessID, pSignature):
		s.Scheme = SchemeGCS
		s.ExpiresAt = epoch(p.v[pExpires])
	case p.all(pAWSAccessKeyID, pSignature):
		s.Scheme = SchemeSigV2
		s.ExpiresAt = epoch(p.v[pExpires])
	case p.all(pSig, pSe) || p.all(pSig, pSv):
		s.Scheme = SchemeAzureSAS
		s.ExpiresAt = isoTime(p.v[pSe])
	default:
		return Signed{}, false
	}
	return s, true
}

// signedV4 reports whether the V4-style parameters at the given indexes mark
// a signature: the signature or the credential, or an algorithm starting
// with algoPrefix next to a date or a lifetime.
func (p *params) signedV4(sig, cred, algo, date, expires int, algoPrefix string) bool {
	if p.has&(bit(sig)|bit(cred)) != 0 {
		return true
	}
	a := p.v[algo]
	return p.has&bit(algo) != 0 && len(a) >= len(algoPrefix) &&
		strings.EqualFold(a[:len(algoPrefix)], algoPrefix) &&
		p.has&(bit(date)|bit(expires)) != 0
}

// isGCSHost reports whether host serves Google Cloud Storage's XML API.
func isGCSHost(host string) bool {
	return strings.EqualFold(host, "storage.googleapis.com") ||
		strings.EqualFold(host, "storage.cloud.google.com") ||
		hasSuffixFold(host, ".storage.googleapis.com")
}
