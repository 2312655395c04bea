package handler_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flatguard/flatguard/internal/devstack"
	"github.com/flatguard/flatguard/internal/report"
	"github.com/flatguard/flatguard/internal/storage"
)

// A tiny passing feed: one listing with one good image.
const smallFeed = "TemplateType=fptcustom\tVersion=2019.1209\n" +
	"SKU\tMain Image URL\n" +
	"item_sku\tmain_image_url\n" +
	"SKU-1\thttps://images.example.com/catalog/ok.jpg\n"

func TestHandle_DuplicateDeliveryNotifiesOnce(t *testing.T) {
	key := "dup/feed.txt"
	_, handle := put(t, key, []byte(smallFeed))
	for i := range 3 {
		if err := handle(); err != nil {
			t.Fatalf("Handle #%d: %v", i+1, err)
		}
	}
	note := notesFor(t, key, 1)[0]
	if note.Attributes["status"] != "pass" {
		t.Errorf("status attribute = %q; want pass", note.Attributes["status"])
	}
	if rep := storedReport(t, key); rep.Status != report.StatusPass || rep.Summary.OKURLs != 1 {
		t.Errorf("report status %s, okUrls %d; want pass, 1", rep.Status, rep.Summary.OKURLs)
	}
}

func TestHandle_NewVersionIsCheckedAgain(t *testing.T) {
	key := "reupload/feed.txt"
	broken := strings.Replace(smallFeed, "ok.jpg", "ok.jpg?X-Amz-Signature=abc&X-Amz-Credential=AKIAEXAMPLE", 1)
	v1, handle1 := put(t, key, []byte(broken))
	if err := handle1(); err != nil {
		t.Fatal(err)
	}
	v2, handle2 := put(t, key, []byte(smallFeed))
	if err := handle2(); err != nil {
		t.Fatal(err)
	}
	notes := notesFor(t, key, 2)
	if notes[0].Attributes["status"] != "fail" || notes[1].Attributes["status"] != "pass" {
		t.Errorf("statuses = %s, %s; want fail, pass", notes[0].Attributes["status"], notes[1].Attributes["status"])
	}
	if notes[0].Attributes["versionId"] != v1 || notes[1].Attributes["versionId"] != v2 {
		t.Errorf("versions = %s, %s; want %s, %s", notes[0].Attributes["versionId"], notes[1].Attributes["versionId"], v1, v2)
	}
	if got := statusTag(t, key, v1); got != "fail" {
		t.Errorf("tag of v1 = %q; want fail", got)
	}
	if got := statusTag(t, key, v2); got != "pass" {
		t.Errorf("tag of v2 = %q; want pass", got)
	}
}

// A crash after the report was written but before the notification: the
// report carries no "notified" mark, so the retry publishes exactly once.
func TestHandle_ResumesAfterCrashBeforePublish(t *testing.T) {
	key := "crash/feed.txt"
	version, handle := put(t, key, []byte(smallFeed))
	st := storage.New(s3c)
	body := []byte(`{"schemaVersion":1,"status":"pass","mode":"full","source":{"bucket":"` + bucket + `","key":"` + key + `","versionId":"` + version + `","size":1},"format":"amazon-fptcustom","encoding":"utf-8","checkedAt":"2025-12-01T00:00:00Z","durationMs":1,"summary":{"rows":1,"imageCells":1,"uniqueUrls":1,"okUrls":1,"failedUrls":0,"notChecked":0,"errors":0,"warnings":0,"byCode":{}},"findings":[]}`)
	if err := st.PutReport(context.Background(), bucket, key+".report.json", "application/json", body, storage.ReportState{SourceVersion: version}); err != nil {
		t.Fatal(err)
	}
	if err := handle(); err != nil {
		t.Fatal(err)
	}
	if err := handle(); err != nil {
		t.Fatal(err)
	}
	note := notesFor(t, key, 1)[0]
	if want := "[PASS] feed.txt: 1 image URL ok"; note.Subject != want {
		t.Errorf("subject = %q; want %q", note.Subject, want)
	}
}

func TestHandle_UnsupportedFileGetsErrorReport(t *testing.T) {
	key := "feeds/catalog.pdf"
	version, handle := put(t, key, []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"))
	if err := handle(); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	rep := storedReport(t, key)
	if rep.Status != report.StatusError || rep.Error == nil || rep.Error.Code != report.ErrUnsupportedFile {
		t.Fatalf("status %s, error %+v; want error with unsupported_file", rep.Status, rep.Error)
	}
	if got := statusTag(t, key, version); got != "error" {
		t.Errorf("tag = %q; want error", got)
	}
	note := notesFor(t, key, 1)[0]
	if note.Attributes["status"] != "error" || note.Attributes["errorCode"] != "unsupported_file" {
		t.Errorf("attributes = %v; want status error, errorCode unsupported_file", note.Attributes)
	}
	if want := "[ERROR] catalog.pdf: not checked (unsupported_file)"; note.Subject != want {
		t.Errorf("subject = %q; want %q", note.Subject, want)
	}
}

func TestHandle_SkipsOwnReportsFoldersAndOtherBuckets(t *testing.T) {
	ctx := context.Background()
	// Each object is really there, with a body the handler would check
	// (a readable feed, or an empty file) if it did not skip it.
	cases := []struct {
		name string
		key  string
		body string
	}{
		{"ReportJSON", "skip/feed.txt.report.json", smallFeed},
		{"ReportHTML", "skip/feed.txt.report.html", smallFeed},
		{"Folder", "skip/folder/", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			version, handle := put(t, tc.key, []byte(tc.body))
			if err := handle(); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(tc.key + ".report.json")}); err == nil {
				t.Errorf("a report was written for %q", tc.key)
			}
			if got := statusTag(t, tc.key, version); got != "" {
				t.Errorf("%q was tagged %q; want no tag", tc.key, got)
			}
			notesFor(t, tc.key, 0)
		})
	}
	t.Run("OtherBucket", func(t *testing.T) {
		var logs bytes.Buffer
		refusing := *h
		refusing.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		ev := devstack.S3Event("someone-elses-bucket", "feed.txt", 10, "x", "v1")
		if err := refusing.Handle(ctx, ev); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		for _, s := range []string{`"level":"ERROR"`, `"msg":"event refused: bucket is not the upload bucket"`, `"bucket":"someone-elses-bucket"`} {
			if !strings.Contains(logs.String(), s) {
				t.Errorf("log lacks %s:\n%s", s, logs.String())
			}
		}
	})
	t.Run("DeletedObject", func(t *testing.T) {
		ev := devstack.S3Event(bucket, "gone/feed.txt", 10, "x", "")
		if err := h.Handle(ctx, ev); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		_, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("gone/feed.txt.report.json")})
		var nf *types.NotFound
		if !errors.As(err, &nf) {
			t.Errorf("HeadObject(report of deleted object) err = %v; want NotFound", err)
		}
	})
}

// A late or repeated event for an older version must neither notify again
// nor overwrite the newer version's report.
func TestHandle_LateEventOfOlderVersion(t *testing.T) {
	key := "late/feed.txt"
	broken := strings.Replace(smallFeed, "ok.jpg", "ok.jpg?X-Amz-Signature=abc&X-Amz-Credential=AKIAEXAMPLE", 1)
	v1, handle1 := put(t, key, []byte(broken))
	if err := handle1(); err != nil {
		t.Fatal(err)
	}
	v2, handle2 := put(t, key, []byte(smallFeed))
	if err := handle2(); err != nil {
		t.Fatal(err)
	}
	if err := handle1(); err != nil { // v1's event, delivered again after v2's
		t.Fatal(err)
	}
	notes := notesFor(t, key, 2)
	if notes[0].Attributes["versionId"] != v1 || notes[1].Attributes["versionId"] != v2 {
		t.Errorf("notified versions %s, %s; want %s, %s", notes[0].Attributes["versionId"], notes[1].Attributes["versionId"], v1, v2)
	}
	if rep := storedReport(t, key); rep.Source.VersionID != v2 || rep.Status != report.StatusPass {
		t.Errorf("report beside the key is about %s (%s); want %s (pass)", rep.Source.VersionID, rep.Status, v2)
	}
}

// A key within 12 bytes of S3's 1024-byte limit leaves no room for a report
// beside it: the version is still checked, tagged and notified.
func TestHandle_KeyTooLongForAReport(t *testing.T) {
	var b strings.Builder
	for range 5 {
		b.WriteString(strings.Repeat("d", 200) + "/")
	}
	key := b.String() + "feed.txt" // 1013 bytes
	version, handle := put(t, key, []byte(smallFeed))
	if err := handle(); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got := statusTag(t, key, version); got != "pass" {
		t.Errorf("tag = %q; want pass", got)
	}
	note := notesFor(t, key, 1)[0]
	if _, ok := note.Attributes["reportKey"]; ok || note.Attributes["status"] != "pass" {
		t.Errorf("attributes = %v; want status pass and no reportKey", note.Attributes)
	}
	if want := "not stored: the file's key is too long for a report beside it; shorten the key"; !strings.Contains(note.Message, want) {
		t.Errorf("message lacks %q:\n%s", want, note.Message)
	}
}

// The Lambda's time budget: URL checks stop Reserve before the invocation
// deadline, and what was not checked is reported, tagged and notified.
func TestHandle_InvocationDeadline(t *testing.T) {
	host.Mux.HandleFunc("/catalog/never.jpg", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	key := "deadline/feed.txt"
	feedBody := smallFeed + "SKU-2\thttps://images.example.com/catalog/never.jpg\n"
	version, _ := put(t, key, []byte(feedBody))
	out, err := s3c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		t.Fatal(err)
	}
	ev := devstack.S3Event(bucket, key, int64(len(feedBody)), aws.ToString(out.ETag), version)

	// An invocation with 21 s left and the default 20 s reserve: one second
	// for the checks.
	ctx, cancel := context.WithTimeout(context.Background(), 21*time.Second)
	defer cancel()
	if err := h.Handle(ctx, ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	rep := storedReport(t, key)
	s := rep.Summary
	if rep.Status != report.StatusFail || s.OKURLs != 1 || s.NotChecked != 1 || s.FailedURLs != 0 {
		t.Errorf("status %s, ok %d, not checked %d, failed %d; want fail, 1, 1, 0", rep.Status, s.OKURLs, s.NotChecked, s.FailedURLs)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Code != report.CodeNotChecked || rep.Findings[0].Cell != "B5" {
		t.Errorf("findings = %+v; want one not_checked on B5", rep.Findings)
	}
	if got := statusTag(t, key, version); got != "fail" {
		t.Errorf("tag = %q; want fail", got)
	}
	notesFor(t, key, 1)
}
