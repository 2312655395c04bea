// Package presign recognises temporary links in image URLs, computes when
// they expire, recognises cloud-drive share pages, and redacts secrets from
// URLs before they reach a report, a notification or a log line.
//
// A marketplace fetches listing images some time after a flat file is
// uploaded, anonymously; a pre-signed link works in the seller's browser
// today and is refused then. [Detect] finds these links by their query
// parameters (names compared case-insensitively, after percent-decoding):
//
//   - aws-sigv4: X-Amz-Signature or X-Amz-Credential (or an AWS4-*
//     X-Amz-Algorithm with X-Amz-Date or X-Amz-Expires). Expiry is
//     X-Amz-Date (20060102T150405Z) plus X-Amz-Expires seconds. With
//     X-Amz-Security-Token the link is [Signed.SessionBound].
//   - aws-sigv2: AWSAccessKeyId and Signature; expiry is Expires (Unix
//     seconds).
//   - cloudfront: Key-Pair-Id and Signature; expiry is Expires (canned
//     policy) or the AWS:EpochTime of DateLessThan inside Policy (custom
//     policy, base64 with CloudFront's '-', '_', '~' alphabet).
//   - gcs: X-Goog-Signature or X-Goog-Credential (expiry X-Goog-Date plus
//     X-Goog-Expires), GoogleAccessId and Signature (V2, expiry Expires),
//     or a SigV4 signature on storage.googleapis.com.
//   - azure-sas: sig with se or sv; expiry is se, ISO 8601 as a date
//     (midnight UTC), or a date and time to the minute or second, with an
//     optional fraction and zone, colons possibly written %3A.
//
// An expiry that cannot be read leaves [Signed.ExpiresAt] zero: the link is
// still reported as temporary.
//
// # Share pages
//
// [Share] recognises pages that show a file rather than serve it, which a
// marketplace receives as HTML:
//
//   - google-drive: any URL on drive.google.com, docs.google.com or
//     drive.usercontent.google.com. This includes the uc?export=view and
//     uc?export=download forms: they can answer image bytes today, but
//     only through a redirect to a short-lived download host, they stop
//     when sharing changes, are rate limited, and answer an HTML
//     interstitial for large files. Drive is not an image host, so the
//     seller is told to move the file.
//   - google-photos: photos.google.com and photos.app.goo.gl.
//   - dropbox: dropbox.com paths /s/, /sh/ and /scl/ (fi and fo), unless
//     dl=1 or raw=1 asks for the file itself; those direct downloads, and
//     dl.dropboxusercontent.com, are left to the HTTP check.
//   - onedrive: 1drv.ms, and onedrive.live.com except its /download
//     endpoint.
//   - sharepoint: sharing links on *.sharepoint.com (/:i:/, /:u:/, ...:
//     one letter between colons), unless download=1.
//   - icloud: icloud.com, www.icloud.com and share.icloud.com.
//   - box: /s/ and /v/ shared links on box.com hosts (/shared/static/ is a
//     direct file).
//   - mega: mega.nz and mega.io.
//
// # Secrets
//
// [Redact] and [RedactText] replace secret values with REDACTED and keep
// every other byte. A parameter is secret when its name (percent-decoded,
// any case) is one of sig, key, auth, policy, rlkey, key-pair-id,
// awsaccesskeyid, googleaccessid, authorization, passwd, pwd or sid, or
// holds token, secret, password, signature, session, credential, apikey,
// api_key, api-key or accesskey: this covers X-Amz-Signature,
// X-Amz-Security-Token, X-Amz-Credential, X-Goog-Signature,
// X-Goog-Credential, Signature, access_token, api_key, client_secret and
// sessionid. Userinfo in an authority is secret too. Redaction reaches into
// the fragment (#access_token=...), into path parameters
// (;jsessionid=...) and into URLs nested as parameter values, encoded or
// not.
//
// # Speed
//
// Detect and Redact run on every image cell of large files. Neither calls
// url.Parse: they scan the string once and keep substrings. A URL without
// '?' (Detect) or without '?', '#' and '@' (Redact) returns at once
// without allocating; a signed URL costs Detect no allocation (a
// CloudFront custom policy aside) and Redact one.
package presign
