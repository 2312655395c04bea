// Package report defines the verdict flatguard writes for one flat file: the
// findings, the summary and the JSON document of the outside contract
// (CONTRACT.md), plus the renderings people read.
package report

import (
	"sort"
	"time"
)

// SchemaVersion is the version of the JSON report layout.
const SchemaVersion = 1

// Status is the verdict on one file.
type Status string

// The verdicts.
const (
	StatusPass  Status = "pass"
	StatusFail  Status = "fail"
	StatusError Status = "error"
)

// Mode tells whether URLs were fetched.
type Mode string

// The modes.
const (
	ModeFull    Mode = "full"
	ModeOffline Mode = "offline"
)

// Severity says whether a finding fails the file.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Code names a finding. Codes are stable: new ones are added, none renamed.
type Code string

// The finding codes of CONTRACT.md.
const (
	CodePresignedURL     Code = "presigned_url"
	CodeShareLink        Code = "share_link"
	CodeInvalidURL       Code = "invalid_url"
	CodeInsecureURL      Code = "insecure_url"
	CodeHTTPStatus       Code = "http_status"
	CodeRedirected       Code = "redirected"
	CodeNotImage         Code = "not_image"
	CodeUnsupportedImage Code = "unsupported_image"
	CodeImageTooSmall    Code = "image_too_small"
	CodeNoZoom           Code = "no_zoom"
	CodeImageTooLarge    Code = "image_too_large"
	CodeUnreachable      Code = "unreachable"
	CodeBlockedAddress   Code = "blocked_address"
	CodeNotChecked       Code = "not_checked"
	CodeMissingMainImage Code = "missing_main_image"
	CodeNoImageColumns   Code = "no_image_columns"
)

// Severity returns the severity CONTRACT.md gives the code.
func (c Code) Severity() Severity {
	switch c {
	case CodeInsecureURL, CodeRedirected, CodeNoZoom, CodeMissingMainImage, CodeNoImageColumns:
		return SeverityWarning
	}
	return SeverityError
}

// ErrorCode names why a file could not be read at all.
type ErrorCode string

// The file error codes.
const (
	ErrUnreadableFile  ErrorCode = "unreadable_file"
	ErrUnsupportedFile ErrorCode = "unsupported_file"
	ErrFileTooLarge    ErrorCode = "file_too_large"
	ErrMalformedFile   ErrorCode = "malformed_file"
)

// Source names the checked file: an S3 object in the Lambda, a path in the CLI.
type Source struct {
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	Path      string `json:"path,omitempty"`
	Size      int64  `json:"size"`
}

// Name returns the key or path of the source.
func (s Source) Name() string {
	if s.Key != "" {
		return s.Key
	}
	return s.Path
}

// Summary counts everything, also what the capped findings list leaves out.
type Summary struct {
	Rows       int          `json:"rows"`
	ImageCells int          `json:"imageCells"`
	UniqueURLs int          `json:"uniqueUrls"`
	OKURLs     int          `json:"okUrls"`
	FailedURLs int          `json:"failedUrls"`
	NotChecked int          `json:"notChecked"`
	Errors     int          `json:"errors"`
	Warnings   int          `json:"warnings"`
	ByCode     map[Code]int `json:"byCode"`
}

// FileError says why the file itself could not be checked.
type FileError struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	// Row is the row where reading stopped, 0 when it does not apply.
	Row int `json:"row,omitempty"`
}

// Finding is one problem with one URL in one cell, or with one row or file.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     Code     `json:"code"`
	Row      int      `json:"row"`
	Cell     string   `json:"cell"`
	SKU      string   `json:"sku"`
	Column   string   `json:"column"`
	// URL is always redacted.
	URL        string         `json:"url"`
	Message    string         `json:"message"`
	HTTPStatus int            `json:"httpStatus,omitempty"`
	ExpiresAt  *time.Time     `json:"expiresAt,omitempty"`
	Detail     map[string]any `json:"detail,omitempty"`
}

// Report is the JSON document written beside each checked file.
type Report struct {
	SchemaVersion int        `json:"schemaVersion"`
	Status        Status     `json:"status"`
	Mode          Mode       `json:"mode"`
	Source        Source     `json:"source"`
	Format        string     `json:"format"`
	Encoding      string     `json:"encoding,omitempty"`
	CheckedAt     time.Time  `json:"checkedAt"`
	DurationMs    int64      `json:"durationMs"`
	Summary       Summary    `json:"summary"`
	Error         *FileError `json:"error,omitempty"`
	Findings      []Finding  `json:"findings"`
	// FindingsOmitted counts the findings left out of a capped list.
	FindingsOmitted int `json:"findingsOmitted,omitempty"`
	// TagSkipped is set when the verdict tag could not be added because the
	// object already holds the maximum number of tags.
	TagSkipped bool `json:"tagSkipped,omitempty"`
	// Passed lists some images that passed every check, for the HTML
	// report's thumbnails. It is not part of the JSON document.
	Passed []Thumbnail `json:"-"`
}

// MaxThumbnails caps Report.Passed.
const MaxThumbnails = 200

// Thumbnail is one image that passed, where it sits in the file.
type Thumbnail struct {
	// URL is redacted; images that passed carry no secrets worth showing.
	URL  string
	Row  int
	Cell string
	SKU  string
}

// SortFindings orders findings as CONTRACT.md requires (see Less).
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return Less(fs[i], fs[j]) })
}

// Less reports whether a comes before b in a report: by row, then cell, then
// code, then URL. Cells compare by column position, so B7 sorts before AA7.
func Less(a, b Finding) bool {
	if a.Row != b.Row {
		return a.Row < b.Row
	}
	if a.Cell != b.Cell {
		if len(a.Cell) != len(b.Cell) {
			return len(a.Cell) < len(b.Cell)
		}
		return a.Cell < b.Cell
	}
	if a.Code != b.Code {
		return a.Code < b.Code
	}
	// Several URLs in one cell: a fixed order, so reports do not change
	// from run to run.
	return a.URL < b.URL
}
