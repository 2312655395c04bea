package report

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"
)

// pageScript makes the findings table filterable by code and by free text,
// and sortable by a click on a column header. It is the page's only script;
// the Content-Security-Policy allows exactly this text by its hash.
const pageScript = `(function () {
  "use strict";
  var table = document.getElementById("findings");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  controls.hidden = false;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var shown = document.getElementById("shown");
  var search = document.getElementById("q");
  var buttons = document.querySelectorAll("button[data-filter]");
  var code = "";
  function apply() {
    var q = search.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (tr) {
      var ok = (code === "" || tr.dataset.code === code) &&
        (q === "" || tr.textContent.toLowerCase().indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = String(n);
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      code = b.dataset.filter;
      buttons.forEach(function (o) {
        o.setAttribute("aria-pressed", String(o.dataset.filter === code));
      });
      apply();
      if (b.closest("#groups")) { table.scrollIntoView(); }
    });
  });
  search.addEventListener("input", apply);
  function key(tr, i) {
    var td = tr.cells[i];
    return td.dataset.sort !== undefined ? td.dataset.sort : td.textContent;
  }
  function sortBy(th) {
    var i = th.cellIndex;
    var num = th.dataset.type === "num";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    table.querySelectorAll("th[data-type]").forEach(function (o) {
      o.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      var c = num ? Number(x) - Number(y) :
        x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
      if (c === 0) { c = Number(a.dataset.order) - Number(b.dataset.order); }
      return c * dir;
    });
    var f = document.createDocumentFragment();
    rows.forEach(function (tr) { f.appendChild(tr); });
    body.appendChild(f);
  }
  table.querySelectorAll("th[data-type] button").forEach(function (b) {
    b.addEventListener("click", function () { sortBy(b.closest("th")); });
  });
  apply();
})();`

// pageStyle is the page's only style sheet, allowed by its hash.
const pageStyle = `
:root { --fail: #b3261e; --pass: #1b6e2d; --warn: #8a5a00; --error: #6b2a8f;
  --line: #d9d9de; --muted: #5f6368; --bg-soft: #f5f5f7; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: #1f1f1f;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap;
  border-bottom: 1px solid var(--line); padding-bottom: 1rem; }
h1 { font-size: 1.35rem; margin: 0; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; }
.verdict { font-size: 1.6rem; font-weight: 700; color: #fff; padding: .35rem 1rem;
  border-radius: .4rem; letter-spacing: .05em; margin: 0; }
.verdict.pass { background: var(--pass); }
.verdict.fail { background: var(--fail); }
.verdict.error { background: var(--error); }
.meta { color: var(--muted); margin: .5rem 0 0; overflow-wrap: anywhere; }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr));
  gap: .5rem; margin: 1rem 0; padding: 0; }
.counts div { background: var(--bg-soft); border-radius: .4rem; padding: .5rem .75rem; }
.counts dt { color: var(--muted); font-size: .85rem; }
.counts dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
.counts .bad dd { color: var(--fail); }
.note { background: #fff8e1; border-left: 4px solid var(--warn); padding: .5rem .75rem; }
.file-error { border-left: 4px solid var(--error); background: var(--bg-soft);
  padding: .75rem 1rem; overflow-wrap: anywhere; margin-top: 1.5rem; }
.file-error h2 { margin-top: 0; }
.groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: .75rem; }
.group { border: 1px solid var(--line); border-radius: .4rem; padding: .75rem; }
.group h3 { margin: 0 0 .25rem; font-size: 1rem; }
.group p { margin: .25rem 0; }
.sev { font-size: .75rem; font-weight: 700; text-transform: uppercase; padding: .1rem .4rem;
  border-radius: .25rem; color: #fff; vertical-align: middle; }
.sev.error { background: var(--fail); }
.sev.warning { background: var(--warn); }
.rows { color: var(--muted); font-size: .9rem; }
button { font: inherit; cursor: pointer; border: 1px solid var(--line); background: #fff;
  border-radius: .3rem; padding: .2rem .6rem; }
button[aria-pressed="true"] { background: #1f1f1f; color: #fff; border-color: #1f1f1f; }
#controls { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin-bottom: .75rem; }
#controls[hidden] { display: none; }
#q { font: inherit; padding: .25rem .5rem; min-width: 16rem; border: 1px solid var(--line);
  border-radius: .3rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { position: sticky; top: 0; background: #fff; white-space: nowrap; }
td.sku { min-width: 8rem; overflow-wrap: anywhere; }
td.nowrap { white-space: nowrap; }
th button { border: 0; padding: 0; font-weight: 700; background: none; }
th[aria-sort="ascending"] button::after { content: " \25B2"; }
th[aria-sort="descending"] button::after { content: " \25BC"; }
td.url { overflow-wrap: anywhere; max-width: 28rem; font-family: ui-monospace, monospace; font-size: .8rem; }
td.num { text-align: right; }
tr.error td:first-child { border-left: 3px solid var(--fail); }
tr.warning td:first-child { border-left: 3px solid var(--warn); }
.code { font-family: ui-monospace, monospace; font-weight: 600; }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: .75rem; }
.thumbs figure { margin: 0; border: 1px solid var(--line); border-radius: .4rem; padding: .4rem; }
.thumbs img { display: block; width: 100%; height: 128px; object-fit: contain; background: var(--bg-soft); }
.thumbs figcaption { font-size: .8rem; color: var(--muted); overflow-wrap: anywhere; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding-top: .75rem; }
`

// pagePolicy is the page's Content-Security-Policy: nothing loads but the
// page's own script and style, by hash, and images over http or https.
var pagePolicy = "default-src 'none'; script-src '" + cspHash(pageScript) +
	"'; style-src '" + cspHash(pageStyle) +
	"'; img-src https: http:; base-uri 'none'; form-action 'none'"

// cspHash returns the CSP source expression that allows an inline element
// whose text is s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageTemplate is the HTML report. html/template escapes every value for its
// context; the script and style go in as trusted constants.
var pageTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.Policy}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Verdict}} {{.Name}}: flatguard report</title>
<style>{{.Style}}</style>
</head>
<body data-status="{{.Status}}">
<header>
<p id="verdict" class="verdict {{.Status}}" data-status="{{.Status}}">{{.Verdict}}</p>
<div>
<h1 id="headline">{{.Headline}}</h1>
<p class="meta">{{.Source}}{{with .Format}} · format {{.}}{{end}}{{with .Encoding}} · {{.}}{{end}} · {{.Mode}} check{{with .CheckedAt}} · checked {{.}}{{end}}</p>
</div>
</header>
{{with .Error}}
<section id="file-error" class="file-error" data-error-code="{{.Code}}">
<h2>The file could not be checked</h2>
<p><span class="code">{{.Code}}</span>: <span id="error-message">{{.Message}}</span></p>
{{if .Row}}<p>Reading stopped at row <span id="error-row">{{.Row}}</span>.</p>{{end}}
<p><strong>Fix:</strong> {{.Fix}}</p>
</section>
{{else}}
<section aria-labelledby="summary-title">
<h2 id="summary-title">Summary</h2>
<dl class="counts">
{{range .Counts}}<div{{if .Bad}} class="bad"{{end}}><dt>{{.Label}}</dt><dd data-count="{{.Key}}">{{.Value}}</dd></div>
{{end}}</dl>
{{if .Omitted}}<p id="omitted" class="note" data-omitted="{{.Omitted}}">{{.Omitted}} more findings are not listed here (the list is capped); the counts above include them.</p>{{end}}
{{if .TagSkipped}}<p id="tag-skipped" class="note">The verdict tag was not added: the file already holds the maximum of 10 tags.</p>{{end}}
</section>
{{if .Groups}}
<section id="groups" aria-labelledby="groups-title">
<h2 id="groups-title">What to fix</h2>
<div class="groups">
{{range .Groups}}<article class="group" data-code="{{.Code}}">
<h3><span class="sev {{.Severity}}">{{.Severity}}</span> <span class="code">{{.Code}}</span> <span data-group-count="{{.Code}}">{{.Count}}</span></h3>
<p><strong>Fix:</strong> {{.Fix}}</p>
<p class="rows">Rows {{.Rows}}</p>
<p><button type="button" data-filter="{{.Code}}" aria-pressed="false">Show {{if eq .Listed 1}}this row{{else}}these {{.Listed}} rows{{end}}</button></p>
</article>
{{end}}</div>
</section>
<section aria-labelledby="findings-title">
<h2 id="findings-title">Findings (<span id="shown">{{len .Rows}}</span> of {{len .Rows}} shown)</h2>
<div id="controls" hidden>
<button type="button" data-filter="" aria-pressed="true">All {{len .Rows}}</button>
{{range .Groups}}<button type="button" data-filter="{{.Code}}" aria-pressed="false">{{.Code}} {{.Listed}}</button>
{{end}}<input id="q" type="search" placeholder="Filter rows: SKU, URL, column..." aria-label="Filter rows">
</div>
<table id="findings">
<thead><tr>
<th data-type="num" aria-sort="ascending"><button type="button">Row</button></th>
<th data-type="num" aria-sort="none"><button type="button">Cell</button></th>
<th data-type="text" aria-sort="none"><button type="button">SKU</button></th>
<th data-type="text" aria-sort="none"><button type="button">Column</button></th>
<th data-type="text" aria-sort="none"><button type="button">URL</button></th>
<th data-type="text" aria-sort="none"><button type="button">Finding</button></th>
</tr></thead>
<tbody>
{{range .Rows}}<tr class="{{.Severity}}" data-code="{{.Code}}" data-severity="{{.Severity}}" data-order="{{.Order}}">
<td class="num" data-sort="{{.Row}}">{{if .Row}}{{.Row}}{{else}}file{{end}}</td>
<td class="nowrap" data-sort="{{.CellKey}}">{{.Cell}}</td>
<td class="sku">{{.SKU}}</td>
<td>{{.Column}}</td>
<td class="url">{{if .Link}}<a href="{{.URL}}" rel="noopener noreferrer" target="_blank">{{.URL}}</a>{{else}}{{.URL}}{{end}}</td>
<td data-sort="{{.Code}}"><span class="sev {{.Severity}}">{{.Severity}}</span> <span class="code">{{.Code}}</span> {{.Message}}{{with .Extra}}<br><small>{{.}}</small>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</section>
{{else}}
<p id="no-findings">No findings: every image URL {{if eq .Mode "offline"}}looks permanent{{else}}answered with an image the marketplace takes{{end}}.</p>
{{end}}
{{if .Thumbs}}
<section id="thumbnails" aria-labelledby="thumbs-title">
<h2 id="thumbs-title">Images that passed</h2>
{{if .ThumbsMore}}<p class="note">Showing the first {{len .Thumbs}} of {{.ThumbsTotal}} images that passed.</p>{{end}}
<div class="thumbs">
{{range .Thumbs}}<figure><a href="{{.URL}}" rel="noopener noreferrer" target="_blank"><img src="{{.URL}}" loading="lazy" decoding="async" referrerpolicy="no-referrer" alt="image in cell {{.Cell}}"></a>
<figcaption>row {{.Row}}{{with .Cell}} · {{.}}{{end}}{{with .SKU}} · {{.}}{{end}}</figcaption></figure>
{{end}}</div>
</section>
{{end}}
{{end}}
<footer>flatguard report · schema {{.SchemaVersion}}{{with .Duration}} · took {{.}}{{end}} · the JSON report beside this page holds the same findings.</footer>
<script>{{.Script}}</script>
</body>
</html>
`))

// htmlPage is what pageTemplate renders. Every string in it went through
// Clean; html/template does the escaping.
type htmlPage struct {
	Policy        string
	Style         template.CSS
	Script        template.JS
	Status        string
	Verdict       string
	Name          string
	Headline      string
	Source        string
	Format        string
	Encoding      string
	Mode          string
	CheckedAt     string
	Duration      string
	SchemaVersion int
	Error         *htmlError
	Counts        []htmlCount
	Omitted       int
	TagSkipped    bool
	Groups        []htmlGroup
	Rows          []htmlRow
	Thumbs        []Thumbnail
	ThumbsTotal   int
	ThumbsMore    bool
}

type htmlError struct {
	Code    string
	Message string
	Row     int
	Fix     string
}

type htmlCount struct {
	Key   string
	Label string
	Value int
	Bad   bool
}

type htmlGroup struct {
	Code     string
	Severity string
	Count    int
	Listed   int
	Fix      string
	Rows     string
}

type htmlRow struct {
	Order    int
	Row      int
	Cell     string
	CellKey  int64
	SKU      string
	Column   string
	URL      string
	Link     bool
	Code     string
	Severity string
	Message  string
	Extra    string
}

// WriteHTML writes r as a self-contained HTML page: the verdict, the counts,
// the findings grouped by code with the fix for each, a table of findings
// that a little inline script filters and sorts, and lazily loaded
// thumbnails of the images that passed (callers pass r.Passed; the page
// shows the first MaxThumbnails with http or https URLs and says how many
// more there were; nil shows none). The page loads nothing but those images: its
// Content-Security-Policy allows only its own inline script and style.
func WriteHTML(w io.Writer, r *Report, thumbnails []Thumbnail) error {
	if err := pageTemplate.Execute(w, newHTMLPage(r, thumbnails)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// newHTMLPage prepares the values pageTemplate shows.
func newHTMLPage(r *Report, thumbnails []Thumbnail) *htmlPage {
	p := &htmlPage{
		Policy:        pagePolicy,
		Style:         template.CSS(pageStyle),
		Script:        template.JS(pageScript),
		Status:        string(r.Status),
		Verdict:       strings.ToUpper(Clean(string(r.Status))),
		Name:          Clean(baseName(r.Source.Name())),
		Headline:      Headline(r),
		Source:        sourceText(r.Source),
		Format:        Clean(r.Format),
		Encoding:      Clean(r.Encoding),
		Mode:          Clean(string(r.Mode)),
		SchemaVersion: r.SchemaVersion,
		Omitted:       r.FindingsOmitted,
		TagSkipped:    r.TagSkipped,
	}
	if p.Mode == "" {
		p.Mode = string(ModeFull)
	}
	if !r.CheckedAt.IsZero() {
		p.CheckedAt = r.CheckedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if r.DurationMs > 0 {
		p.Duration = (time.Duration(r.DurationMs) * time.Millisecond).String()
	}
	if r.Status == StatusError {
		fe := fileError(r)
		p.Error = &htmlError{Code: Clean(string(fe.Code)), Message: Clean(fe.Message), Row: fe.Row, Fix: errorFix(fe.Code)}
		return p
	}
	p.Counts = htmlCounts(r.Summary)
	for _, g := range Groups(r) {
		p.Groups = append(p.Groups, htmlGroup{
			Code:     Clean(string(g.Code)),
			Severity: string(g.Severity),
			Count:    g.Count,
			Listed:   len(g.Findings),
			Fix:      Fix(g.Code),
			Rows:     rowList(g.Findings, 12),
		})
	}
	for i, f := range r.Findings {
		p.Rows = append(p.Rows, newHTMLRow(i, f))
	}
	p.Thumbs, p.ThumbsTotal = pickThumbnails(thumbnails)
	p.ThumbsMore = p.ThumbsTotal > len(p.Thumbs)
	return p
}

// htmlCounts lists the summary under the JSON names, so that a reader (or a
// test) can match each data-count attribute with the report's summary.
func htmlCounts(s Summary) []htmlCount {
	return []htmlCount{
		{Key: "rows", Label: "data rows", Value: s.Rows},
		{Key: "imageCells", Label: "image cells", Value: s.ImageCells},
		{Key: "uniqueUrls", Label: "distinct URLs", Value: s.UniqueURLs},
		{Key: "okUrls", Label: "URLs ok", Value: s.OKURLs},
		{Key: "failedUrls", Label: "URLs failed", Value: s.FailedURLs, Bad: s.FailedURLs > 0},
		{Key: "notChecked", Label: "not checked", Value: s.NotChecked, Bad: s.NotChecked > 0},
		{Key: "errors", Label: "errors", Value: s.Errors, Bad: s.Errors > 0},
		{Key: "warnings", Label: "warnings", Value: s.Warnings},
	}
}

// newHTMLRow prepares finding f, the i-th of the report, for the table.
func newHTMLRow(i int, f Finding) htmlRow {
	u := Clean(f.URL)
	return htmlRow{
		Order:    i,
		Row:      f.Row,
		Cell:     Clean(f.Cell),
		CellKey:  cellKey(f.Cell, f.Row),
		SKU:      Clean(f.SKU),
		Column:   Clean(f.Column),
		URL:      u,
		Link:     isWebURL(u),
		Code:     Clean(string(f.Code)),
		Severity: Clean(string(f.Severity)),
		Message:  Clean(f.Message),
		Extra:    findingExtra(f),
	}
}

// findingExtra says what a finding carries beyond its message: the HTTP
// status, the expiry and the details, in one line.
func findingExtra(f Finding) string {
	var parts []string
	if f.HTTPStatus != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", f.HTTPStatus))
	}
	if f.ExpiresAt != nil {
		parts = append(parts, "expires "+f.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	keys := make([]string, 0, len(f.Detail))
	for k := range f.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, truncate(Clean(fmt.Sprintf("%s: %v", k, f.Detail[k])), 600))
	}
	return strings.Join(parts, " · ")
}

// pickThumbnails keeps the thumbnails with web URLs, at most MaxThumbnails,
// and returns how many there were in all.
func pickThumbnails(ts []Thumbnail) ([]Thumbnail, int) {
	var out []Thumbnail
	total := 0
	for _, t := range ts {
		u := Clean(t.URL)
		if !isWebURL(u) {
			continue
		}
		total++
		if len(out) < MaxThumbnails {
			out = append(out, Thumbnail{URL: u, Row: t.Row, Cell: Clean(t.Cell), SKU: Clean(t.SKU)})
		}
	}
	return out, total
}

// isWebURL reports whether s is an absolute http or https URL with a host,
// the only kind the page links to or loads.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// cellKey orders cells by column, then row, so that a sort puts B7 before
// AA7. A cell reference that is not A1-style sorts first.
func cellKey(cell string, row int) int64 {
	col := int64(0)
	for _, c := range cell {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			break
		}
		col = col*26 + int64(c-'A'+1)
		if col > 1<<20 {
			break
		}
	}
	return col*1_000_000_000 + int64(row)
}

// rowList names the rows of findings, at most limit of them, such as
// "4, 7, 9 and 12 more".
func rowList(fs []Finding, limit int) string {
	var rows []string
	seen := map[int]bool{}
	for _, f := range fs {
		if seen[f.Row] {
			continue
		}
		seen[f.Row] = true
		if f.Row == 0 {
			rows = append(rows, "the file as a whole")
			continue
		}
		rows = append(rows, fmt.Sprint(f.Row))
	}
	if len(rows) <= limit {
		return strings.Join(rows, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(rows[:limit], ", "), len(rows)-limit)
}

// sourceText names the checked file for a person: its S3 URI or its path.
func sourceText(s Source) string {
	if s.Bucket != "" {
		return Clean("s3://" + s.Bucket + "/" + s.Key)
	}
	return Clean(s.Path)
}
