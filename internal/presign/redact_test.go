package presign

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string
	}{
		// The corpus files.
		{"CorpusFptSigV4", corpusFptSigV4, "https://example-bucket.s3.eu-west-1.amazonaws.com/products/EX-VITC-120.MAIN.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20240105T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED"},
		{"CorpusFptCloudFront", corpusFptCloudFront, "https://d111111abcdef8.cloudfront.net/images/EX-VITC-180.PT01.jpg?Expires=1767290400&Signature=REDACTED&Key-Pair-Id=REDACTED"},
		{"CorpusFptSigV2", corpusFptSigV2, "https://example-bucket.s3.amazonaws.com/EX-VITC-240.jpg?AWSAccessKeyId=REDACTED&Expires=1704450900&Signature=REDACTED"},
		{"CorpusOfferSigV4", corpusOfferSigV4, "https://example-bucket.s3.amazonaws.com/offers/EX-USED-0002.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20240105T101500Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED"},

		// Session identifiers, in the query and as path parameters.
		{"SessionIDQuery", "https://shop.example.com/img/a.jpg?sessionid=SECRETo&w=540", "https://shop.example.com/img/a.jpg?sessionid=REDACTED&w=540"},
		{"SidQuery", "https://shop.example.com/a.jpg?sid=abc123", "https://shop.example.com/a.jpg?sid=REDACTED"},
		{"JSessionIDPath", "https://shop.example.com/img/a.jpg;jsessionid=SECRETSESSj?w=540", "https://shop.example.com/img/a.jpg;jsessionid=REDACTED?w=540"},
		{"JSessionIDPathEnd", "https://shop.example.com/img;JSESSIONID=abc/a.jpg", "https://shop.example.com/img;JSESSIONID=REDACTED/a.jpg"},
		{"HarmlessPathParam", "https://shop.example.com/img/a.jpg;v=2", "https://shop.example.com/img/a.jpg;v=2"},

		// Each scheme's secrets.
		{"SigV4SessionToken", "https://b.s3.amazonaws.com/k.png?X-Amz-Security-Token=IQoJb3JpZ2luX2Vj%2F%2B%3D&X-Amz-Date=20250601T120000Z&X-Amz-Signature=ff00", "https://b.s3.amazonaws.com/k.png?X-Amz-Security-Token=REDACTED&X-Amz-Date=20250601T120000Z&X-Amz-Signature=REDACTED"},
		{"CloudFrontPolicy", "https://d1.cloudfront.net/a.jpg?Policy=eyJTdGF0ZW1l-_~&Signature=abc~def&Key-Pair-Id=K2JCJMDEHXQW5F", "https://d1.cloudfront.net/a.jpg?Policy=REDACTED&Signature=REDACTED&Key-Pair-Id=REDACTED"},
		{"GCSV4", "https://storage.googleapis.com/b/cat.jpeg?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20250601%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20250601T180000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=1a2b3c", "https://storage.googleapis.com/b/cat.jpeg?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=REDACTED&X-Goog-Date=20250601T180000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=REDACTED"},
		{"GCSV2", "https://storage.googleapis.com/b/cat.jpeg?GoogleAccessId=sa%40p.iam.gserviceaccount.com&Expires=1735689600&Signature=AbC%2Bd", "https://storage.googleapis.com/b/cat.jpeg?GoogleAccessId=REDACTED&Expires=1735689600&Signature=REDACTED"},
		{"AzureSAS", "https://acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&se=2026-12-31T10%3A00%3A00Z&sp=r&skoid=0000&sig=abc%2Bdef%3D", "https://acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&se=2026-12-31T10%3A00%3A00Z&sp=r&skoid=0000&sig=REDACTED"},
		{"DropboxRlkey", "https://www.dropbox.com/scl/fi/abc123/shoe.jpg?rlkey=k3yv4lu3&dl=0", "https://www.dropbox.com/scl/fi/abc123/shoe.jpg?rlkey=REDACTED&dl=0"},

		// Names that look like secrets, and names that do not.
		{"GenericNames", "https://h.example/a.jpg?token=t1&access_token=t2&api_key=k1&apikey=k2&key=k3&password=p1&auth=a1&secret=s1&credential=c1&signature=s2", "https://h.example/a.jpg?token=REDACTED&access_token=REDACTED&api_key=REDACTED&apikey=REDACTED&key=REDACTED&password=REDACTED&auth=REDACTED&secret=REDACTED&credential=REDACTED&signature=REDACTED"},
		{"ContainingNames", "https://h.example/a.jpg?client_secret=s&refresh_token=r&X-Api-Key=k&db_password=p&sessionToken=t&userSignature=u", "https://h.example/a.jpg?client_secret=REDACTED&refresh_token=REDACTED&X-Api-Key=REDACTED&db_password=REDACTED&sessionToken=REDACTED&userSignature=REDACTED"},
		{"HarmlessNames", "https://h.example/a.jpg?monkey=1&keyword=shoe&sigma=2&author=me&policyId=3&size=10", "https://h.example/a.jpg?monkey=1&keyword=shoe&sigma=2&author=me&policyId=3&size=10"},
		{"MixedCaseNames", "https://h.example/a.jpg?x-AMZ-signature=abc&SIG=def&Token=ghi&RLKEY=jkl", "https://h.example/a.jpg?x-AMZ-signature=REDACTED&SIG=REDACTED&Token=REDACTED&RLKEY=REDACTED"},
		{"EncodedName", "https://h.example/a.jpg?X%2DAmz%2DSignature=abc&to%6Ben=def", "https://h.example/a.jpg?X%2DAmz%2DSignature=REDACTED&to%6Ben=REDACTED"},

		// Values.
		{"EmptyValue", "https://h.example/a.jpg?token=&x=1", "https://h.example/a.jpg?token=&x=1"},
		{"NoValue", "https://h.example/a.jpg?token&x=1", "https://h.example/a.jpg?token&x=1"},
		{"EncodedAmpersandInValue", "https://h.example/a.jpg?token=abc%26def&x=1", "https://h.example/a.jpg?token=REDACTED&x=1"},
		{"EqualsInValue", "https://h.example/a.jpg?sig=abc==&x=1", "https://h.example/a.jpg?sig=REDACTED&x=1"},
		{"SemicolonSeparator", "https://h.example/a.jpg?a=1;token=xyz&b=2", "https://h.example/a.jpg?a=1;token=REDACTED&b=2"},
		{"SemicolonInValue", "https://h.example/a.jpg?token=ab;cd&b=2", "https://h.example/a.jpg?token=REDACTED&b=2"},
		{"ValueEndsAtFragment", "https://h.example/a.jpg?token=abc#top", "https://h.example/a.jpg?token=REDACTED#top"},
		{"KeepsEncoding", "https://h.example/a%20b.jpg?q=a%2Bb%2Fc&token=x%2By&z=%E2%82%AC", "https://h.example/a%20b.jpg?q=a%2Bb%2Fc&token=REDACTED&z=%E2%82%AC"},
		{"NonSecretBase64", "https://h.example/a.jpg?v=abc%3D%3D&x=1", "https://h.example/a.jpg?v=abc%3D%3D&x=1"},

		// Fragments.
		{"FragmentToken", "https://h.example/cb#access_token=abc.def&token_type=bearer&expires_in=3600", "https://h.example/cb#access_token=REDACTED&token_type=REDACTED&expires_in=3600"},
		{"FragmentRoute", "https://h.example/app#/callback?token=abc&x=1", "https://h.example/app#/callback?token=REDACTED&x=1"},
		{"FragmentHashInValue", "https://h.example/a#token=ab#cd&x=1", "https://h.example/a#token=REDACTED&x=1"},
		{"QueryAndFragment", "https://h.example/a.jpg?sig=1#sig=2", "https://h.example/a.jpg?sig=REDACTED#sig=REDACTED"},

		// Userinfo.
		{"UserPassword", "https://user:pa55@images.example.com/a.jpg", "https://REDACTED@images.example.com/a.jpg"},
		{"UserOnly", "https://user@images.example.com/a.jpg", "https://REDACTED@images.example.com/a.jpg"},
		{"UserPasswordPort", "http://user:pa55@images.example.com:8080/a.jpg?token=x", "http://REDACTED@images.example.com:8080/a.jpg?token=REDACTED"},
		{"UserinfoNoPath", "https://user:pa55@images.example.com", "https://REDACTED@images.example.com"},
		{"AtInPassword", "https://user:p@ss@images.example.com/a.jpg", "https://REDACTED@images.example.com/a.jpg"},
		{"SlashInPassword", "https://user:pa/ss@images.example.com/a.jpg", "https://REDACTED@images.example.com/a.jpg"},
		{"EmptyUserinfo", "https://@images.example.com/a.jpg", "https://@images.example.com/a.jpg"},
		{"AtInPath", "https://images.example.com/a@2x.jpg", "https://images.example.com/a@2x.jpg"},
		{"AtInPathWithPort", "https://images.example.com:8443/a@2x.jpg", "https://images.example.com:8443/a@2x.jpg"},
		{"AtInQuery", "https://images.example.com/a.jpg?email=me@example.com", "https://images.example.com/a.jpg?email=me@example.com"},
		{"SchemeRelative", "//user:pw@images.example.com/a.jpg", "//REDACTED@images.example.com/a.jpg"},

		// Malformed input.
		{"MissingScheme", "b.s3.amazonaws.com/k.jpg?X-Amz-Signature=abc&X-Amz-Date=20250601T100000Z", "b.s3.amazonaws.com/k.jpg?X-Amz-Signature=REDACTED&X-Amz-Date=20250601T100000Z"},
		{"MissingSchemeUserinfo", "user:pw@images.example.com/a.jpg", "REDACTED@images.example.com/a.jpg"},
		{"BadEscapes", "https://h.example/%zz.jpg?token=ab%zzcd%&x=%4&sig=%", "https://h.example/%zz.jpg?token=REDACTED&x=%4&sig=REDACTED"},
		{"Spaces", "https://h.example/a b.jpg?token=a b c&x=1 2", "https://h.example/a b.jpg?token=REDACTED&x=1 2"},
		{"LeadingSpace", "  https://user:pw@h.example/a.jpg?sig=abc", "  https://REDACTED@h.example/a.jpg?sig=REDACTED"},
		{"ControlCharacter", "https://h.example/a.jpg?token=a\x00b\tc&x=1", "https://h.example/a.jpg?token=REDACTED&x=1"},
		{"DoubleQuestionMark", "https://h.example/a.jpg??token=abc", "https://h.example/a.jpg??token=REDACTED"},
		{"NotAURL", "token=abc", "token=abc"},
		{"QueryOnly", "?token=abc", "?token=REDACTED"},
		{"Empty", "", ""},

		// Nested URLs, as parameter values.
		{"NestedEncoded", "https://img.example.com/r?next=https%3A%2F%2Fbucket.s3.amazonaws.com%2Fk.jpg%3FX-Amz-Credential%3DAKIA%252F2025%26X-Amz-Signature%3Dabc%26w%3D1&h=2", "https://img.example.com/r?next=https%3A%2F%2Fbucket.s3.amazonaws.com%2Fk.jpg%3FX-Amz-Credential%3DREDACTED%26X-Amz-Signature%3DREDACTED%26w%3D1&h=2"},
		{"NestedEncodedLowerHex", "https://img.example.com/r?next=https%3a%2f%2fb.example%2fk%3fsig%3dabc%26w%3d1", "https://img.example.com/r?next=https%3a%2f%2fb.example%2fk%3fsig%3dREDACTED%26w%3d1"},
		{"NestedDoubleEncoded", "https://img.example.com/r?u=https%3A%2F%2Fproxy%2Ff%3Fsrc%3Dhttps%253A%252F%252Fb%252Fk%253Fsig%253Dabc%2526sv%253D1%26w%3D2", "https://img.example.com/r?u=https%3A%2F%2Fproxy%2Ff%3Fsrc%3Dhttps%253A%252F%252Fb%252Fk%253Fsig%253DREDACTED%2526sv%253D1%26w%3D2"},
		{"NestedLiteral", "https://img.example.com/r?next=https://b.s3.amazonaws.com/k.jpg?X-Amz-Signature=abc&X-Amz-Date=20250601T100000Z", "https://img.example.com/r?next=https://b.s3.amazonaws.com/k.jpg?X-Amz-Signature=REDACTED&X-Amz-Date=20250601T100000Z"},
		{"NestedUserinfoEncoded", "https://img.example.com/r?next=https%3A%2F%2Fuser%3Apw%40b.example%2Fk.jpg&w=1", "https://img.example.com/r?next=https%3A%2F%2FREDACTED%40b.example%2Fk.jpg&w=1"},
		{"NestedUserinfoLiteral", "https://img.example.com/r?next=https://user:pw@b.example/k.jpg&w=1", "https://img.example.com/r?next=https://REDACTED@b.example/k.jpg&w=1"},
		{"NestedInPath", "https://proxy.example.com/fetch/https://user:pw@b.example/k.jpg", "https://proxy.example.com/fetch/https://REDACTED@b.example/k.jpg"},
		{"NestedEncodedSecretValue", "https://img.example.com/r?token=https%3A%2F%2Fb%2Fk%3Fx%3D1&w=1", "https://img.example.com/r?token=REDACTED&w=1"},
		{"NestedNoSecret", "https://img.example.com/r?next=https%3A%2F%2Fb.example%2Fk.jpg%3Fw%3D500&h=2", "https://img.example.com/r?next=https%3A%2F%2Fb.example%2Fk.jpg%3Fw%3D500&h=2"},

		// Nothing to redact.
		{"Plain", "https://images.example.com/catalog/EX-VITC-060.MAIN.jpg", "https://images.example.com/catalog/EX-VITC-060.MAIN.jpg"},
		{"PlainQuery", "https://images.example.com/a.jpg?v=1700000000&width=540", "https://images.example.com/a.jpg?v=1700000000&width=540"},
		{"AlreadyRedacted", "https://REDACTED@h.example/a.jpg?X-Amz-Signature=REDACTED", "https://REDACTED@h.example/a.jpg?X-Amz-Signature=REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.url)
			if got != tc.want {
				t.Fatalf("Redact(%q) = %q; want %q", tc.url, got, tc.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact(%q) = %q; want it unchanged (idempotent)", got, again)
			}
		})
	}
}

// TestRedact_Nested nests signed URLs as a parameter value, encoded once
// and twice as url.QueryEscape does, and checks that decoding the redacted
// value gives the redacted inner URL.
func TestRedact_Nested(t *testing.T) {
	inner := []string{
		corpusFptSigV4, corpusFptCloudFront, corpusFptSigV2, corpusOfferSigV4,
		"https://user:pw@acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&se=2026-12-31T10%3A00%3A00Z&sig=abc%2Bdef%3D",
	}
	for _, in := range inner {
		for levels := 1; levels <= 3; levels++ {
			enc := in
			for range levels {
				enc = url.QueryEscape(enc)
			}
			outer := "https://img.example.com/resize?w=500&src=" + enc + "&h=500"
			got := Redact(outer)
			if !strings.HasPrefix(got, "https://img.example.com/resize?w=500&src=") || !strings.HasSuffix(got, "&h=500") {
				t.Fatalf("Redact(%q) = %q; want the outer URL kept", outer, got)
			}
			value := strings.TrimSuffix(strings.TrimPrefix(got, "https://img.example.com/resize?w=500&src="), "&h=500")
			for range levels {
				var err error
				if value, err = url.QueryUnescape(value); err != nil {
					t.Fatalf("QueryUnescape(%q): %v", value, err)
				}
			}
			if want := Redact(in); value != want {
				t.Errorf("Redact(%q) holds %q at level %d; want %q", outer, value, levels, want)
			}
		}
	}
}

// TestRedact_NoAllocation checks the promise made to the hot path: a URL
// with nothing to redact is returned without allocating.
func TestRedact_NoAllocation(t *testing.T) {
	for _, u := range []string{
		"https://images.example.com/catalog/EX-VITC-060.MAIN.jpg",
		"https://images.example.com/a.jpg?v=1700000000&width=540",
		"https://images.example.com/a@2x.jpg",
		corpusFptSigV4 + "#",
	} {
		var got string
		allocs := testing.AllocsPerRun(100, func() { got = Redact(u) })
		if u == corpusFptSigV4+"#" {
			if allocs != 1 {
				t.Errorf("Redact(%q) allocations = %v; want 1", u, allocs)
			}
			continue
		}
		if allocs != 0 || got != u {
			t.Errorf("Redact(%q) = %q with %v allocations; want it unchanged with 0", u, got, allocs)
		}
	}
}

func TestDetect_NoAllocation(t *testing.T) {
	for _, u := range []string{
		"https://images.example.com/catalog/EX-VITC-060.MAIN.jpg",
		"https://images.example.com/a.jpg?v=1700000000&width=540",
		corpusFptSigV4,
		corpusFptCloudFront,
		"https://acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&se=2026-12-31T10%3A00%3A00.5Z&sig=abc",
	} {
		if allocs := testing.AllocsPerRun(100, func() { Detect(u) }); allocs != 0 {
			t.Errorf("Detect(%q) allocations = %v; want 0", u, allocs)
		}
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"NetHTTPDial", `Get "https://b.s3.amazonaws.com/k.jpg?X-Amz-Credential=AKIA%2F20250601&X-Amz-Signature=abc": dial tcp 192.0.2.1:443: i/o timeout`, `Get "https://b.s3.amazonaws.com/k.jpg?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED": dial tcp 192.0.2.1:443: i/o timeout`},
		{"QuotedWithSpace", `parse "https://h.example/a.jpg?token=a b": invalid character`, `parse "https://h.example/a.jpg?token=REDACTED": invalid character`},
		{"QuotedEscapedQuote", `Get "https://h.example/a.jpg?token=a\"b&x=1": EOF`, `Get "https://h.example/a.jpg?token=REDACTED&x=1": EOF`},
		{"Unquoted", "fetch https://user:pw@h.example/a.jpg?sig=abc failed after 3 attempts", "fetch https://REDACTED@h.example/a.jpg?sig=REDACTED failed after 3 attempts"},
		{"AngleBrackets", "see <https://h.example/a.jpg?token=abc> now", "see <https://h.example/a.jpg?token=REDACTED> now"},
		{"SingleQuotes", "bad URL 'https://h.example/a.jpg?token=a b'", "bad URL 'https://h.example/a.jpg?token=REDACTED'"},
		{"Several", "first http://h.example/?token=1, then HTTPS://h.example/?Signature=2\nand https://h.example/ok.jpg", "first http://h.example/?token=REDACTED then HTTPS://h.example/?Signature=REDACTED\nand https://h.example/ok.jpg"},
		{"UnclosedQuote", `Get "https://h.example/?token=abc rest`, `Get "https://h.example/?token=REDACTED rest`},
		{"QuotedRelative", `Get "/next.jpg?sig=abc&sv=1": redirect refused`, `Get "/next.jpg?sig=REDACTED&sv=1": redirect refused`},
		{"QuotedEmail", `mail "seller@example.com" bounced`, `mail "REDACTED@example.com" bounced`},
		{"QuotedProse", `said "why? token=abc"`, `said "why? token=abc"`},
		{"OtherScheme", "ftp://user:pw@h.example/?token=abc", "ftp://user:pw@h.example/?token=abc"},
		{"NoURL", "context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"},
		{"SchemeOnly", "https://", "https://"},
		{"Empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactText(tc.text); got != tc.want {
				t.Errorf("RedactText(%q) = %q; want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestRedactText_NetHTTPError redacts the errors net/http itself returns,
// from a server on 127.0.0.1 that redirects to a pre-signed URL, relative
// or absolute: net/http quotes the Location as the server wrote it.
func TestRedactText_NetHTTPError(t *testing.T) {
	const signed = "/final.jpg?X-Amz-Credential=AKIAEXAMPLE%2F20250601&X-Amz-Signature=0123abcd&X-Amz-Security-Token=tok%2B"
	const redactedQuery = "/final.jpg?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED"
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := signed
		if r.URL.Path == "/absolute.jpg" {
			target = srv.URL + signed
		}
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("redirect refused")
	}

	tests := []struct {
		name string
		path string
		want string
	}{
		{"RelativeLocation", "/relative.jpg", `Get "` + redactedQuery + `": redirect refused`},
		{"AbsoluteLocation", "/absolute.jpg", `Get "` + srv.URL + redactedQuery + `": redirect refused`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tc.path + "?token=s3cr3t")
			if err == nil {
				resp.Body.Close()
				t.Fatalf("Get(%q) succeeded; want a redirect error", srv.URL+tc.path)
			}
			if got := RedactText(err.Error()); got != tc.want {
				t.Errorf("RedactText(%q) = %q; want %q", err.Error(), got, tc.want)
			}
		})
	}

	// A URL net/http cannot even parse.
	_, err := http.NewRequest(http.MethodGet, "https://h.example/a.jpg?token=abc\x7fdef&w=1", nil)
	if err == nil {
		t.Fatal("NewRequest with a control character succeeded; want an error")
	}
	got := RedactText(err.Error())
	want := `parse "https://h.example/a.jpg?token=REDACTED&w=1": net/url: invalid control character in URL`
	if got != want {
		t.Errorf("RedactText(%q) = %q; want %q", err.Error(), got, want)
	}
	if strings.Contains(got, "abc") {
		t.Errorf("RedactText(%q) = %q; still holds the token", err.Error(), got)
	}
}
