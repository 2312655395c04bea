// Package handler answers S3 object-created events: it checks the new
// object version with the validate pipeline, tags it with the verdict,
// writes the report beside it and publishes one notification. The Lambda
// entrypoint (functions/validate), `flatguard demo` and `flatguard invoke`
// all run this same code.
package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flatguard/flatguard/internal/notify"
	"github.com/flatguard/flatguard/internal/report"
	"github.com/flatguard/flatguard/internal/storage"
	"github.com/flatguard/flatguard/internal/validate"
)

// Report object suffixes. Objects with these suffixes are flatguard's own
// output and never checked, so writing a report cannot trigger another.
const (
	JSONSuffix = ".report.json"
	HTMLSuffix = ".report.html"
)

// Handler holds what every invocation shares. Build it once per process.
type Handler struct {
	// Store reads sources and writes reports and tags.
	Store *storage.Store
	// Publisher sends the verdict.
	Publisher *notify.Publisher
	// Pipeline checks files.
	Pipeline *validate.Pipeline
	// UploadBucket, when set, is the only bucket whose events are handled.
	UploadBucket string
	// Region names the bucket's region in console links.
	Region string
	// Reserve is kept back from the invocation deadline to write the report
	// and notify. Zero means validate.DefaultLambdaReserve.
	Reserve time.Duration
	// Logger receives the handler's log lines; nil means slog.Default().
	Logger *slog.Logger
}

// Handle processes every record of an S3 event. It returns an error only
// when an AWS call failed, so that Lambda retries the event; everything
// about the files themselves is a result in their reports.
func (h *Handler) Handle(ctx context.Context, e events.S3Event) error {
	var errs []error
	for _, rec := range e.Records {
		if err := h.record(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// record handles one event record.
func (h *Handler) record(ctx context.Context, rec events.S3EventRecord) error {
	log := h.logger()
	bucket := rec.S3.Bucket.Name
	// S3 writes keys form-encoded: '+' is a space and %2B a plus, so
	// QueryUnescape (not PathUnescape) is the right inverse.
	key, err := url.QueryUnescape(rec.S3.Object.Key)
	if err != nil {
		log.ErrorContext(ctx, "event key not decodable", "bucket", bucket, "error", err)
		return nil
	}
	log = log.With("bucket", bucket, "key", key, "versionId", rec.S3.Object.VersionID)
	switch {
	case !strings.HasPrefix(rec.EventName, "ObjectCreated:"):
		log.DebugContext(ctx, "event ignored", "eventName", rec.EventName)
		return nil
	case h.UploadBucket != "" && bucket != h.UploadBucket:
		log.ErrorContext(ctx, "event refused: bucket is not the upload bucket", "uploadBucket", h.UploadBucket)
		return nil
	case Ignores(key, rec.S3.Object.Size):
		log.DebugContext(ctx, "own report or folder placeholder ignored")
		return nil
	}
	if err := h.object(ctx, log, bucket, key, rec.S3.Object); err != nil {
		log.ErrorContext(ctx, "object not handled; Lambda will retry", "error", err)
		return err
	}
	return nil
}

// Ignores reports whether the handler leaves an object alone: flatguard's
// own reports, so that writing one never triggers another, and folder
// placeholders (an empty object whose key ends in '/').
func Ignores(key string, size int64) bool {
	return IsReportKey(key) || strings.HasSuffix(key, "/") && size == 0
}

// IsReportKey reports whether key is one of flatguard's own report objects.
func IsReportKey(key string) bool {
	return strings.HasSuffix(key, JSONSuffix) || strings.HasSuffix(key, HTMLSuffix)
}

// object checks one object version: read, validate, tag, write the report,
// publish, then mark the report as notified. A retry after any failure
// resumes without a second notification.
func (h *Handler) object(ctx context.Context, log *slog.Logger, bucket, key string, o events.S3Object) error {
	start := time.Now()
	reportKey := key + JSONSuffix
	versionID := o.VersionID
	sourceID := versionID
	if sourceID == "" {
		sourceID = "etag:" + strings.Trim(o.ETag, `"`)
	}

	if len(reportKey) > maxKeyBytes {
		return h.unreportable(ctx, log, bucket, key, versionID, start)
	}

	// 1. A report about this very version may exist from an earlier delivery.
	state, err := h.Store.ReportState(ctx, bucket, reportKey)
	if err != nil {
		return err
	}
	if state.Exists && state.SourceVersion == sourceID {
		if state.Notified != "" {
			log.InfoContext(ctx, "already reported", "reportKey", reportKey, "messageId", state.Notified)
			return nil
		}
		return h.resume(ctx, log, bucket, reportKey, state)
	}
	// The report beside the key is about a newer version (events of one key
	// can arrive late or out of order): leave it, and the newer verdict,
	// alone. The older version was replaced before it could be reported.
	if state.Exists && storage.Older(o.Sequencer, state.Sequencer) {
		log.WarnContext(ctx, "event skipped: a newer version of the object is already reported",
			"reportKey", reportKey, "reportedVersion", state.SourceVersion)
		return nil
	}

	// 2. Read and check the file, and tag the version.
	rep, err := h.check(ctx, log, bucket, key, versionID, start)
	if rep == nil || err != nil {
		return err
	}

	// 3. Write the report, then tell people.
	page, body, err := encode(rep)
	if err != nil {
		return err
	}
	// The HTML page goes first: the JSON report, written next, is what
	// marks this version as reported.
	state = storage.ReportState{SourceVersion: sourceID, Sequencer: o.Sequencer}
	if err := h.Store.PutReport(ctx, bucket, key+HTMLSuffix, "text/html; charset=utf-8", page, state); err != nil {
		return err
	}
	if err := h.Store.PutReport(ctx, bucket, reportKey, "application/json", body, state); err != nil {
		return err
	}
	messageID, err := h.publish(ctx, rep, reportKey)
	if err != nil {
		return err
	}
	h.markNotified(ctx, log, bucket, reportKey, body, state, messageID)
	s := rep.Summary
	log.InfoContext(ctx, "object checked", "status", rep.Status, "format", rep.Format, "encoding", rep.Encoding,
		"rows", s.Rows, "imageCells", s.ImageCells, "uniqueUrls", s.UniqueURLs, "failedUrls", s.FailedURLs,
		"notChecked", s.NotChecked, "reportKey", reportKey, "messageId", messageID,
		"durationMs", time.Since(start).Milliseconds())
	return nil
}

// check reads and checks one object version and tags it with the verdict.
// It returns a nil report when the object is gone.
func (h *Handler) check(ctx context.Context, log *slog.Logger, bucket, key, versionID string, start time.Time) (*report.Report, error) {
	obj, err := h.Store.Open(ctx, bucket, key, versionID)
	if errors.Is(err, storage.ErrNotFound) {
		log.WarnContext(ctx, "object no longer exists; skipped")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	log.InfoContext(ctx, "checking object", "sizeBytes", obj.Size)
	rep, err := h.Pipeline.Run(ctx, validate.Input{
		Source:        report.Source{Bucket: bucket, Key: key, VersionID: obj.VersionID, ETag: obj.ETag, Size: obj.Size},
		Name:          key,
		Body:          obj.Body,
		CheckDeadline: h.checkDeadline(ctx, start),
	})
	if err != nil {
		return nil, err
	}
	if rep.TagSkipped, err = h.Store.Tag(ctx, bucket, key, obj.VersionID, string(rep.Status)); err != nil {
		return nil, err
	}
	if rep.TagSkipped {
		log.WarnContext(ctx, "verdict tag skipped: the object already holds the maximum of tags")
	}
	return rep, nil
}

// maxKeyBytes is S3's limit on the length of a key.
const maxKeyBytes = 1024

// unreportable answers an object whose key leaves no room for a report
// beside it (S3 keys hold at most 1024 bytes): the version is checked and
// tagged and the verdict published, with the report in the message only.
// Without a report object to hold the idempotency mark, a duplicate
// delivery of its event publishes again.
func (h *Handler) unreportable(ctx context.Context, log *slog.Logger, bucket, key, versionID string, start time.Time) error {
	rep, err := h.check(ctx, log, bucket, key, versionID, start)
	if rep == nil || err != nil {
		return err
	}
	messageID, err := h.publish(ctx, rep, "")
	if err != nil {
		return err
	}
	log.WarnContext(ctx, "object checked; no report beside it: the key is too long", "status", rep.Status, "messageId", messageID)
	return nil
}

// resume finishes a run that wrote its report but may not have published
// (a crash or a failed publish): publish from the stored report, then mark it.
func (h *Handler) resume(ctx context.Context, log *slog.Logger, bucket, reportKey string, state storage.ReportState) error {
	body, err := h.Store.ReadReport(ctx, bucket, reportKey)
	if err != nil {
		return err
	}
	var rep report.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return fmt.Errorf("decode stored report s3://%s/%s: %v", bucket, reportKey, err)
	}
	messageID, err := h.publish(ctx, &rep, reportKey)
	if err != nil {
		return err
	}
	h.markNotified(ctx, log, bucket, reportKey, body, state, messageID)
	log.InfoContext(ctx, "stored report published", "status", rep.Status, "reportKey", reportKey, "messageId", messageID)
	return nil
}

// markNotified rewrites the report with the SNS message ID in its metadata,
// so that a duplicate delivery of the event finds it and sends nothing.
//
// NOTE: publishing and marking cannot be one atomic step, so notification is
// at least once, never at most once: a crash after writing the report and
// before the mark makes Lambda's retry publish (CONTRACT.md: never zero).
// When the mark itself fails (after the SDK's own retries), the verdict has
// already gone out, so the failure is logged at WARN and not returned.
// Returning it would make Lambda retry the event, and every retry, finding a
// report without the mark, would publish the same verdict again: up to three
// messages with Lambda's two retries. Left unmarked, only a later duplicate
// delivery of the same event can repeat the message. Subscribers that must
// see each verdict once drop repeats by the bucket, key and versionId
// attributes. A conditional write would not help: the mark is the write
// that failed.
func (h *Handler) markNotified(ctx context.Context, log *slog.Logger, bucket, reportKey string, body []byte, state storage.ReportState, messageID string) {
	state.Notified = messageID
	if err := h.Store.PutReport(ctx, bucket, reportKey, "application/json", body, state); err != nil {
		log.WarnContext(ctx, "verdict published but not marked on the report; a duplicate delivery may publish it again",
			"reportKey", reportKey, "messageId", messageID, "error", err)
	}
}

// publish sends the verdict with the attributes pipelines filter on.
func (h *Handler) publish(ctx context.Context, rep *report.Report, reportKey string) (string, error) {
	src := rep.Source
	loc := report.Location{
		URI:        "s3://" + src.Bucket + "/" + reportKey,
		ConsoleURL: consoleURL(h.Region, src.Bucket, reportKey),
	}
	if reportKey == "" {
		loc = report.Location{URI: "not stored: the file's key is too long for a report beside it; shorten the key"}
	}
	attrs := map[string]string{
		"status":    string(rep.Status),
		"bucket":    src.Bucket,
		"key":       src.Key,
		"versionId": src.VersionID,
		"reportKey": reportKey,
		"format":    rep.Format,
	}
	if rep.Error != nil {
		attrs["errorCode"] = string(rep.Error.Code)
	}
	return h.Publisher.Publish(ctx, notify.Message{
		Subject:    report.Subject(rep),
		Body:       report.Body(rep, loc),
		Attributes: attrs,
	})
}

// checkDeadline is when URL checks stop: the invocation deadline less the
// reserve, or the configured Deadline from the start, whichever is sooner.
func (h *Handler) checkDeadline(ctx context.Context, start time.Time) time.Time {
	var d time.Time
	if dl, ok := ctx.Deadline(); ok {
		reserve := h.Reserve
		if reserve <= 0 {
			reserve = validate.DefaultLambdaReserve
		}
		d = dl.Add(-reserve)
		if d.Before(start) {
			d = start
		}
	}
	if cfg := h.Pipeline.Config(); cfg.Deadline > 0 {
		if c := start.Add(cfg.Deadline); d.IsZero() || c.Before(d) {
			d = c
		}
	}
	return d
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// encode renders the report as its HTML page and its JSON document.
func encode(rep *report.Report) (page, doc []byte, err error) {
	var h, j bytes.Buffer
	if err := report.WriteHTML(&h, rep, rep.Passed); err != nil {
		return nil, nil, fmt.Errorf("render HTML report: %v", err)
	}
	if err := report.WriteJSON(&j, rep); err != nil {
		return nil, nil, fmt.Errorf("encode report: %v", err)
	}
	return h.Bytes(), j.Bytes(), nil
}

// consoleURL opens an object in the S3 console.
func consoleURL(region, bucket, key string) string {
	if region == "" {
		region = "us-east-1"
	}
	return "https://s3.console.aws.amazon.com/s3/object/" + url.PathEscape(bucket) +
		"?region=" + url.QueryEscape(region) + "&prefix=" + url.QueryEscape(key)
}
